/*
 * s3_engine.c: the one request engine. libcurl's multi interface runs on a libuv loop: curl's
 * socket callback starts and stops a uv_poll per socket, its timer callback drives one
 * uv_timer, and finished transfers are collected after every socket action. Connections are
 * kept in the multi handle's cache and reused across requests and clients.
 *
 * The engine owns request scheduling (a FIFO of pending requests, at most max_concurrency
 * active), per-attempt signing (SigV4 with the date of that attempt), the sinks of a GET
 * (buffer with a ceiling, callback, file written to a temporary name and renamed on success),
 * and retries with exponential backoff and full jitter. It does not know how an operation maps
 * to HTTP (s3_request.c) or how answers are parsed (s3_result.c).
 *
 * Invariants: a request's callback runs exactly once, from a loop callback, never from
 * spoor_s3_submit(); a request holds an easy handle only while ACTIVE; the engine is freed only
 * when every uv handle it opened has been closed.
 */
#include "s3_int.h"

#include <errno.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "s3_xml.h"
#include "util.h"

struct poll_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct spoor_s3_engine *e;
};

static void start_next(struct spoor_s3_engine *e);
static void list_push(struct req_list *l, struct s3_req *r, enum req_state state);
static void req_finish(struct s3_req *r, CURLcode cc);

/* ---- engine lifetime and the curl/libuv glue ------------------------------------------- */

/* One of the engine's uv handles has closed; the last one, once closing, frees the engine. */
static void engine_handle_gone(struct spoor_s3_engine *e)
{
    if (--e->open_handles > 0 || !e->closing)
        return;
    void (*cb)(void *) = e->close_cb;
    void *ud = e->close_ud;
    if (!e->private_loop)
        free(e);
    if (cb)
        cb(ud);
}

static void handle_closed(uv_handle_t *h)
{
    struct spoor_s3_engine *e = h->data;
    if (h->type == UV_POLL)
        free(h);
    engine_handle_gone(e);
}

static void check_done(struct spoor_s3_engine *e)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(e->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct s3_req *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        req_finish(r, msg->data.result);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct poll_ctx *p = (struct poll_ctx *)h;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    struct spoor_s3_engine *e = p->e;
    curl_multi_socket_action(e->multi, p->fd, flags, &running);
    check_done(e);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct spoor_s3_engine *e = userp;
    struct poll_ctx *p = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (p) {
            uv_poll_stop(&p->poll);
            curl_multi_assign(e->multi, fd, NULL);
            uv_close((uv_handle_t *)&p->poll, handle_closed);
        }
        return 0;
    }
    if (!p) {
        p = xcalloc(1, sizeof *p);
        p->fd = fd;
        p->e = e;
        if (uv_poll_init_socket(e->loop, &p->poll, fd) != 0) {
            free(p);
            return -1;
        }
        p->poll.data = e;
        e->open_handles++;
        curl_multi_assign(e->multi, fd, p);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&p->poll, events, on_poll);
    return 0;
}

static void on_curl_timeout(uv_timer_t *t)
{
    struct spoor_s3_engine *e = t->data;
    int running;
    curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(e);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct spoor_s3_engine *e = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&e->curl_timer);
    else
        uv_timer_start(&e->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser(); /* once, before any thread parses */
}

struct spoor_s3_engine *spoor_s3_engine_new(uv_loop_t *loop,
                                            const struct spoor_s3_engine_opts *opts)
{
    pthread_once(&curl_once, curl_init_once);
    struct spoor_s3_engine *e = xcalloc(1, sizeof *e);
    e->private_loop = loop == NULL;
    if (e->private_loop) {
        uv_loop_init(&e->own_loop);
        loop = &e->own_loop;
    }
    e->loop = loop;
    e->max_concurrency = opts && opts->max_concurrency > 0 ? opts->max_concurrency : 16;
    e->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)e ^ ((uint64_t)getpid() << 32);
    if (!e->rng)
        e->rng = 88172645463325252ull;
    e->multi = curl_multi_init();
    if (!e->multi) {
        if (e->private_loop)
            uv_loop_close(&e->own_loop);
        free(e);
        return NULL;
    }
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)e->max_concurrency);
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->max_concurrency * 2);
    uv_timer_init(loop, &e->curl_timer);
    e->curl_timer.data = e;
    e->open_handles = 1;
    return e;
}

void spoor_s3_engine_stats(const struct spoor_s3_engine *e, uint64_t *requests, uint64_t *errors)
{
    if (requests)
        *requests = e->nrequests;
    if (errors)
        *errors = e->nerrors;
}

static void cancel_all(struct spoor_s3_engine *e)
{
    struct req_list *lists[] = {&e->active, &e->waiting, &e->pending};
    for (size_t i = 0; i < 3; i++) {
        while (lists[i]->head) {
            struct s3_req *r = lists[i]->head;
            uv_timer_stop(&r->backoff);
            spoor_error_set(&r->err, SPOOR_E_CANCELED, "request canceled: the engine is closing");
            req_finish(r, CURLE_ABORTED_BY_CALLBACK);
        }
    }
}

void spoor_s3_engine_close(struct spoor_s3_engine *e, void (*close_cb)(void *ud), void *ud)
{
    e->closing = true;
    e->close_cb = close_cb;
    e->close_ud = ud;
    cancel_all(e);
    curl_multi_cleanup(e->multi); /* removes its sockets through on_socket */
    e->multi = NULL;
    uv_timer_stop(&e->curl_timer);
    uv_close((uv_handle_t *)&e->curl_timer, handle_closed);
    if (!e->private_loop)
        return;
    uv_run(&e->own_loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->own_loop);
    free(e);
}

/* ---- clients --------------------------------------------------------------------------- */

const char *s3_endpoint_label(const struct spoor_s3_client *c, char *out, size_t size)
{
    snprintf(out, size, "endpoint %s (%s://%s)", c->cfg.name[0] ? c->cfg.name : "s3", c->scheme,
             c->hostport);
    return out;
}

static int parse_endpoint(struct spoor_s3_client *c, struct spoor_error *err)
{
    char url[512];
    if (c->cfg.endpoint_url[0]) {
        str_copy(url, sizeof url, c->cfg.endpoint_url);
    } else {
        snprintf(url, sizeof url, "https://s3.%s.amazonaws.com",
                 c->cfg.region[0] ? c->cfg.region : "us-east-1");
    }
    const char *host = NULL;
    if (str_has_prefix(url, "http://"))
        host = url + 7, str_copy(c->scheme, sizeof c->scheme, "http");
    else if (str_has_prefix(url, "https://"))
        host = url + 8, str_copy(c->scheme, sizeof c->scheme, "https");
    size_t n = host ? strcspn(host, "/?#") : 0;
    if (!host || n == 0 || n >= sizeof c->hostport || (host[n] && strcmp(host + n, "/") != 0))
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "endpoint %s: URL \"%s\" is not of the form http(s)://host[:port]",
                               c->cfg.name[0] ? c->cfg.name : "s3", c->cfg.endpoint_url);
    memcpy(c->hostport, host, n);
    c->hostport[n] = '\0';
    c->is_aws = str_has_suffix(c->hostport, ".amazonaws.com") ||
                strstr(c->hostport, ".amazonaws.com:") != NULL;
    return 0;
}

struct spoor_s3_client *spoor_s3_client_new(struct spoor_s3_engine *e,
                                            const struct spoor_s3_config *cfg,
                                            struct spoor_error *err)
{
    struct spoor_s3_client *c = xcalloc(1, sizeof *c);
    c->engine = e;
    c->cfg = *cfg;
    struct spoor_s3_config *k = &c->cfg;
    if (!k->region[0])
        str_copy(k->region, sizeof k->region, "us-east-1");
    k->max_attempts = k->max_attempts > 0 ? k->max_attempts : 4;
    k->retry_base_ms = k->retry_base_ms > 0 ? k->retry_base_ms : 100;
    k->retry_max_ms = k->retry_max_ms > 0 ? k->retry_max_ms : 5000;
    k->connect_timeout_ms = k->connect_timeout_ms > 0 ? k->connect_timeout_ms : 5000;
    k->timeout_ms = k->timeout_ms == 0 ? 60000 : k->timeout_ms;
    if (parse_endpoint(c, err) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void spoor_s3_client_free(struct spoor_s3_client *c)
{
    if (!c)
        return;
    if (c->live_requests > 0) {
        fprintf(stderr,
                "spoor: spoor_s3_client_free with %d requests in flight; close the "
                "engine first (it cancels them)\n",
                c->live_requests);
        abort();
    }
    free(c);
}

const struct spoor_s3_config *spoor_s3_client_config(const struct spoor_s3_client *c)
{
    return &c->cfg;
}

/* ---- one attempt: curl callbacks ------------------------------------------------------- */

static size_t on_read(char *dst, size_t size, size_t nitems, void *ud)
{
    struct s3_req *r = ud;
    size_t want = size * nitems;
    int64_t left = r->body_len - r->body_pos;
    if ((int64_t)want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    if (r->body_fd < 0) {
        memcpy(dst, r->body_data + r->body_pos, want);
    } else {
        ssize_t n;
        do
            n = pread(r->body_fd, dst, want, r->body_offset + r->body_pos);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            r->sink_rc = n < 0 ? -errno : -EIO;
            return CURL_READFUNC_ABORT;
        }
        want = (size_t)n;
    }
    r->body_pos += (int64_t)want;
    return want;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
    struct s3_req *r = ud;
    if (origin != SEEK_SET || offset < 0 || offset > r->body_len)
        return CURL_SEEKFUNC_CANTSEEK;
    r->body_pos = offset;
    return CURL_SEEKFUNC_OK;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
    struct s3_req *r = ud;
    s3_result_header_line(&r->res, line, size * nitems);
    return size * nitems;
}

static int sink_write(struct s3_req *r, const char *data, size_t n)
{
    const struct spoor_s3_sink *s = &r->op.sink;
    if (s->data_cb) {
        if (s->data_cb(data, n, s->data_ud) != 0)
            return SPOOR_E_CALLBACK;
    } else if (s->path) {
        int rc = write_all(r->sink_fd, data, n);
        if (rc)
            return rc;
    } else {
        return buf_append(&r->resp, data, n);
    }
    r->delivered += (int64_t)n;
    return 0;
}

static size_t on_write(char *data, size_t size, size_t nitems, void *ud)
{
    struct s3_req *r = ud;
    size_t n = size * nitems;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    int rc;
    if (status >= 300)
        rc = 0, (void)buf_append(&r->errbody, data, n); /* past the ceiling: cut, not failed */
    else if (r->op.kind == SPOOR_S3_GET_OBJECT)
        rc = sink_write(r, data, n);
    else
        rc = buf_append(&r->resp, data, n);
    if (rc) {
        r->sink_rc = rc;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    return n;
}

/* ---- one attempt: setup ---------------------------------------------------------------- */

static struct curl_slist *add_hdr(struct curl_slist *l, const char *name, const char *value)
{
    struct buf b;
    buf_init(&b, 16 * 1024);
    buf_printf(&b, "%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(l, b.data);
    buf_cleanup(&b);
    if (!n)
        abort();
    return n;
}

/* Signs this attempt: date, payload hash, token, and the Authorization header. */
static struct curl_slist *signed_headers(struct s3_req *r)
{
    const struct spoor_s3_config *cfg = &r->c->cfg;
    char amz_date[17];
    sigv4_amz_date(time(NULL), amz_date);
    struct sigv4_kv all[S3_MAX_HEADERS + 4];
    size_t n = 0;
    all[n++] = (struct sigv4_kv){"host", r->host};
    all[n++] = (struct sigv4_kv){"x-amz-content-sha256", r->payload_hash};
    all[n++] = (struct sigv4_kv){"x-amz-date", amz_date};
    if (cfg->creds.session_token[0])
        all[n++] = (struct sigv4_kv){"x-amz-security-token", cfg->creds.session_token};
    memcpy(all + n, r->headers, r->nheaders * sizeof *all);
    n += r->nheaders;
    struct sigv4_request sreq = {r->method, r->path, r->query, r->nquery, all, n, r->payload_hash};
    struct sigv4_signer signer = {cfg->creds.access_key_id, cfg->creds.secret_access_key,
                                  cfg->region, "s3", amz_date};
    struct buf auth;
    buf_init(&auth, 16 * 1024);
    sigv4_authorization(&sreq, SIGV4_MODE_S3, &signer, &auth);
    struct curl_slist *l = NULL;
    for (size_t i = 0; i < n; i++)
        l = add_hdr(l, all[i].name, all[i].value);
    l = add_hdr(l, "authorization", auth.data ? auth.data : "");
    l = curl_slist_append(l, "Expect:");
    l = curl_slist_append(l, "Accept:");
    buf_cleanup(&auth);
    return l;
}

static void setup_method(struct s3_req *r, CURL *h)
{
    bool has_body = r->body_data || r->body_fd >= 0;
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (has_body || strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(has_body ? r->body_len : 0));
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, r);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, r);
        if (strcmp(r->method, "PUT") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

/* A GET into a file writes a temporary file of its own beside the destination (unique per
 * request, so two downloads to one path cannot mix), emptied for each attempt and renamed
 * over the destination only when the whole answer arrived. */
static int open_sink(struct s3_req *r)
{
    if (r->op.kind != SPOOR_S3_GET_OBJECT || !r->op.sink.path)
        return 0;
    if (r->sink_fd >= 0) {
        if (ftruncate(r->sink_fd, 0) == 0 && lseek(r->sink_fd, 0, SEEK_SET) == 0)
            return 0;
        return spoor_error_set(&r->err, -errno, "cannot rewrite %s: %s", r->sink_tmp,
                               strerror(errno));
    }
    size_t n = strlen(r->op.sink.path) + sizeof ".spoor-tmp-XXXXXX";
    r->sink_tmp = arena_alloc(&r->arena, n);
    snprintf(r->sink_tmp, n, "%s.spoor-tmp-XXXXXX", r->op.sink.path);
    r->sink_fd = mkostemp(r->sink_tmp, O_CLOEXEC);
    if (r->sink_fd < 0)
        return spoor_error_set(&r->err, -errno, "cannot create a file beside %s: %s",
                               r->op.sink.path, strerror(errno));
    fchmod(r->sink_fd, 0644);
    return 0;
}

static int req_start(struct s3_req *r)
{
    struct spoor_s3_engine *e = r->c->engine;
    const struct spoor_s3_config *cfg = &r->c->cfg;
    int rc = open_sink(r);
    if (rc)
        return rc;
    CURL *h = r->easy = curl_easy_init();
    if (!h)
        abort();
    r->attempt++;
    r->body_pos = 0;
    r->sink_rc = 0;
    r->curl_errbuf[0] = '\0';
    buf_reset(&r->resp);
    buf_reset(&r->errbody);
    s3_result_reset_headers(&r->res);
    r->curl_headers = signed_headers(r);
    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->curl_headers);
    curl_easy_setopt(h, CURLOPT_PRIVATE, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->curl_errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "spoor/0.1");
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
    int timeout = r->op.timeout_ms ? r->op.timeout_ms : cfg->timeout_ms;
    if (timeout > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
    setup_method(r, h);
    list_push(&e->active, r, REQ_ACTIVE);
    e->nactive++;
    e->nrequests++;
    curl_multi_add_handle(e->multi, h);
    return 0;
}

/* ---- finishing, retrying --------------------------------------------------------------- */

static struct req_list *list_of(struct spoor_s3_engine *e, enum req_state state)
{
    switch (state) {
    case REQ_PENDING:
        return &e->pending;
    case REQ_ACTIVE:
        return &e->active;
    case REQ_BACKOFF:
        return &e->waiting;
    default:
        return NULL;
    }
}

static void list_push(struct req_list *l, struct s3_req *r, enum req_state state)
{
    r->state = state;
    r->next = NULL;
    r->prev = l->tail;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
}

static void unlink_req(struct s3_req *r)
{
    struct spoor_s3_engine *e = r->e;
    struct req_list *l = list_of(e, r->state);
    if (!l)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        l->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        l->tail = r->prev;
    r->prev = r->next = NULL;
    if (r->state == REQ_ACTIVE)
        e->nactive--;
    r->state = REQ_DETACHED;
}

static void release_easy(struct s3_req *r)
{
    if (!r->easy)
        return;
    if (r->e->multi)
        curl_multi_remove_handle(r->e->multi, r->easy);
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->curl_headers);
    r->easy = NULL;
    r->curl_headers = NULL;
}

static void req_freed(uv_handle_t *h)
{
    struct s3_req *r = h->data;
    struct spoor_s3_engine *e = r->e;
    buf_cleanup(&r->resp);
    buf_cleanup(&r->errbody);
    buf_cleanup(&r->xml_body);
    arena_cleanup(&r->arena);
    free(r);
    engine_handle_gone(e);
}

static bool net_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

static void fill_net_error(struct s3_req *r, CURLcode cc)
{
    char what[1400], ep[400];
    s3_req_describe(r, what, sizeof what);
    s3_endpoint_label(r->c, ep, sizeof ep);
    int code = cc == CURLE_OPERATION_TIMEDOUT ? SPOOR_E_TIMEOUT : SPOOR_E_NET;
    spoor_error_set(&r->err, code, "%s on %s: %s; is the endpoint running and its URL right?", what,
                    ep, r->curl_errbuf[0] ? r->curl_errbuf : curl_easy_strerror(cc));
}

/* Classifies the attempt into r->err; returns whether another attempt may help. */
static bool classify(struct s3_req *r, CURLcode cc, int *status)
{
    long http = 0;
    if (r->easy)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &http);
    r->res.http_status = http;
    r->err.http_status = http;
    if (cc == CURLE_ABORTED_BY_CALLBACK && r->err.code == SPOOR_E_CANCELED) {
        *status = SPOOR_E_CANCELED;
        return false;
    }
    if (r->sink_rc) {
        char what[1400];
        s3_req_describe(r, what, sizeof what);
        *status = spoor_error_set(&r->err, r->sink_rc, "%s: %s", what,
                                  r->sink_rc == SPOOR_E_TOO_LARGE
                                      ? "the object is larger than the buffer's limit"
                                      : spoor_strerror(r->sink_rc));
        return false;
    }
    if (cc != CURLE_OK) {
        fill_net_error(r, cc);
        *status = r->err.code;
        return net_retryable(cc);
    }
    if (http >= 300) {
        bool retry = s3_result_http_error(r, http);
        *status = r->err.code;
        return retry;
    }
    *status = s3_result_parse_ok(r);
    if (*status == SPOOR_E_S3)
        return r->err.s3_code[0] && strcmp(r->err.s3_code, "InternalError") == 0;
    return false;
}

static void on_backoff(uv_timer_t *t)
{
    struct s3_req *r = t->data;
    if (r->state == REQ_DONE) { /* a failure deferred out of spoor_s3_submit */
        req_finish(r, CURLE_OK);
        return;
    }
    unlink_req(r);
    if (req_start(r) != 0) {
        r->state = REQ_DONE;
        req_finish(r, CURLE_OK);
    }
}

static uint64_t backoff_ms(const struct s3_req *r)
{
    const struct spoor_s3_config *cfg = &r->c->cfg;
    uint64_t ceiling = (uint64_t)cfg->retry_base_ms << (r->attempt - 1 < 16 ? r->attempt - 1 : 16);
    if (ceiling > (uint64_t)cfg->retry_max_ms)
        ceiling = (uint64_t)cfg->retry_max_ms;
    uint64_t x = r->e->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->e->rng = x;
    return x % (ceiling + 1); /* full jitter */
}

static bool can_retry(const struct s3_req *r)
{
    const struct spoor_s3_op *o = &r->op;
    if (r->attempt >= r->c->cfg.max_attempts || r->e->closing)
        return false;
    /* Bytes a callback has seen cannot be taken back. */
    return !(o->kind == SPOOR_S3_GET_OBJECT && o->sink.data_cb && r->delivered > 0);
}

static void complete(struct s3_req *r, int status)
{
    struct spoor_s3_engine *e = r->e;
    if (r->sink_fd >= 0) {
        close(r->sink_fd);
        r->sink_fd = -1;
        if (status == 0 && rename(r->sink_tmp, r->op.sink.path) != 0)
            status = spoor_error_set(&r->err, -errno, "cannot rename %s to %s: %s", r->sink_tmp,
                                     r->op.sink.path, strerror(errno));
        if (status != 0)
            unlink(r->sink_tmp);
    }
    if (r->body_fd >= 0) {
        close(r->body_fd);
        r->body_fd = -1;
    }
    if (status) {
        e->nerrors++;
        r->err.code = status;
        r->err.attempts = r->attempt;
        size_t n = strlen(r->err.message);
        if (r->attempt > 1 && n < sizeof r->err.message)
            snprintf(r->err.message + n, sizeof r->err.message - n, " (after %d attempts)",
                     r->attempt);
        s3_endpoint_label(r->c, r->err.endpoint, sizeof r->err.endpoint);
    }
    r->state = REQ_DONE;
    r->c->live_requests--; /* the client outlives its requests (see spoor_s3_client_free) */
    r->cb(status, &r->res, &r->err, r->ud);
    spoor_s3_result_cleanup(&r->res);
    uv_close((uv_handle_t *)&r->backoff, req_freed);
}

static void req_finish(struct s3_req *r, CURLcode cc)
{
    struct spoor_s3_engine *e = r->e;
    int status = r->err.code;
    bool retry = r->state == REQ_DONE ? false : classify(r, cc, &status);
    unlink_req(r);
    release_easy(r);
    if (retry && can_retry(r)) {
        list_push(&e->waiting, r, REQ_BACKOFF);
        s3_result_reset_headers(&r->res);
        uv_timer_start(&r->backoff, on_backoff, backoff_ms(r), 0);
    } else {
        complete(r, status);
    }
    if (!e->closing)
        start_next(e);
}

/* Starts pending requests while slots are free. A request that cannot start (its sink file
 * cannot be created) fails from a zero-delay timer, so no callback runs inside a submit. */
static void start_next(struct spoor_s3_engine *e)
{
    while (e->pending.head && e->nactive < e->max_concurrency) {
        struct s3_req *r = e->pending.head;
        unlink_req(r);
        if (req_start(r) != 0) {
            r->state = REQ_DONE;
            uv_timer_start(&r->backoff, on_backoff, 0, 0);
        }
    }
}

/* ---- submit and exec ------------------------------------------------------------------- */

int spoor_s3_submit(struct spoor_s3_client *c, const struct spoor_s3_op *op, spoor_s3_cb cb,
                    void *ud, struct spoor_error *err)
{
    struct spoor_s3_engine *e = c->engine;
    int rc = s3_op_validate(op, err);
    if (rc)
        return rc;
    if (e->closing)
        return spoor_error_set(err, SPOOR_E_CANCELED, "the S3 engine is closing");
    struct s3_req *r = xcalloc(1, sizeof *r);
    r->c = c;
    r->e = e;
    r->cb = cb;
    r->ud = ud;
    r->sink_fd = -1;
    arena_init(&r->arena);
    buf_init(&r->resp, op->kind == SPOOR_S3_GET_OBJECT
                           ? (op->sink.max_bytes ? op->sink.max_bytes : S3_DEFAULT_SINK_MAX)
                           : S3_XML_MAX_BYTES);
    buf_init(&r->errbody, S3_ERRBODY_MAX);
    buf_init(&r->xml_body, 0);
    spoor_s3_result_cleanup(&r->res);
    s3_op_copy(&r->arena, &r->op, op);
    rc = s3_request_build(r, err);
    if (rc) {
        if (r->body_fd >= 0)
            close(r->body_fd);
        buf_cleanup(&r->xml_body);
        arena_cleanup(&r->arena);
        free(r);
        return rc;
    }
    uv_timer_init(e->loop, &r->backoff);
    r->backoff.data = r;
    e->open_handles++;
    c->live_requests++;
    list_push(&e->pending, r, REQ_PENDING);
    start_next(e);
    return 0;
}

/* The blocking API: the same engine, run on its private loop until the callback has run. */
void s3_sync_cb(int status, struct spoor_s3_result *res, const struct spoor_error *err, void *ud)
{
    struct s3_sync *w = ud;
    w->done = true;
    w->status = status;
    *w->res = *res; /* move: the engine's copy is left empty */
    memset(res, 0, sizeof *res);
    if (w->err && status)
        *w->err = *err;
}

int s3_sync_begin(bool private_loop, struct s3_sync *w, struct spoor_s3_result *res,
                  struct spoor_error *err)
{
    memset(res, 0, sizeof *res);
    spoor_s3_result_cleanup(res);
    spoor_error_clear(err);
    *w = (struct s3_sync){false, 0, res, err};
    if (!private_loop)
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "blocking calls need an engine or router made with a NULL loop");
    return 0;
}

int s3_sync_wait(uv_loop_t *loop, struct s3_sync *w, int submit_rc)
{
    if (submit_rc)
        return submit_rc;
    while (!w->done)
        uv_run(loop, UV_RUN_ONCE);
    return w->status;
}

int spoor_s3_exec(struct spoor_s3_client *c, const struct spoor_s3_op *op,
                  struct spoor_s3_result *res, struct spoor_error *err)
{
    struct s3_sync w;
    int rc = s3_sync_begin(c->engine->private_loop, &w, res, err);
    if (rc)
        return rc;
    return s3_sync_wait(c->engine->loop, &w, spoor_s3_submit(c, op, s3_sync_cb, &w, err));
}
