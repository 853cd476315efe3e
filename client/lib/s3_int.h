/*
 * s3_int.h: private structures of the S3 client, shared by s3_engine.c (curl multi on libuv,
 * request lifecycle, retries), s3_request.c (turning an op into method, URL, headers and body),
 * s3_result.c (headers and answers into struct spoor_s3_result) and s3_upload.c.
 *
 * A request's life:
 *
 *   submit --> PENDING --(a slot frees)--> ACTIVE --(curl done)--> finish
 *                                            ^                       |
 *                                            '--- BACKOFF <--retry---+--> callback --> free
 *
 * PENDING and BACKOFF requests hold no curl handle; ACTIVE ones hold one easy handle that is in
 * the multi handle. Only ACTIVE requests count against the engine's concurrency bound.
 */
#ifndef SPOOR_S3_INT_H
#define SPOOR_S3_INT_H

#include <spoor/s3.h>

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "s3_op.h"
#include "sigv4.h"

#define S3_ERRBODY_MAX (64u * 1024)
#define S3_DEFAULT_SINK_MAX (64u * 1024 * 1024)
#define S3_MAX_HEADERS 64

enum req_state { REQ_PENDING, REQ_ACTIVE, REQ_BACKOFF, REQ_DETACHED, REQ_DONE };

struct s3_req {
    struct s3_req *prev, *next; /* in the engine's list for its state */
    enum req_state state;
    struct spoor_s3_client *c;
    struct spoor_s3_engine *e; /* c's engine; outlives c while the request is closing */
    struct arena arena;        /* every string of this request */
    struct spoor_s3_op op;     /* deep copy, strings in arena (body.data borrowed) */
    spoor_s3_cb cb;
    void *ud;

    /* built once at submit (s3_request.c) */
    const char *method;
    char *url;  /* scheme://host/path?query */
    char *host; /* Host header value, signed */
    char *path; /* encoded path as sent */
    struct sigv4_kv query[8];
    size_t nquery;
    struct sigv4_kv headers[S3_MAX_HEADERS]; /* signed headers except host/date/sha/token */
    size_t nheaders;
    char payload_hash[65];
    struct buf xml_body;   /* body built by us (Delete, CompleteMultipartUpload) */
    const char *body_data; /* memory body (op's or xml_body), or NULL */
    int body_fd;           /* file body, or -1 */
    int64_t body_offset;
    int64_t body_len;
    int64_t body_pos; /* bytes handed to curl in this attempt */

    /* one attempt */
    CURL *easy;
    struct curl_slist *curl_headers;
    char curl_errbuf[CURL_ERROR_SIZE];
    int attempt;
    uv_timer_t backoff;
    struct buf resp;    /* answer body (XML or GET into a buffer) */
    struct buf errbody; /* body of a >= 300 answer */
    int sink_fd;        /* GET into a file: the temporary file */
    char *sink_tmp;     /* its name */
    int64_t delivered;  /* bytes given to a data_cb or file sink */
    int sink_rc;        /* why a write callback stopped the transfer */

    struct spoor_s3_result res;
    struct spoor_error err;
};

struct req_list {
    struct s3_req *head, *tail;
};

struct spoor_s3_engine {
    uv_loop_t *loop;
    uv_loop_t own_loop;
    bool private_loop;
    bool closing;
    CURLM *multi;
    uv_timer_t curl_timer;
    int open_handles; /* uv handles not yet closed (timer, polls, req timers) */
    int max_concurrency;
    int nactive;
    struct req_list pending; /* FIFO, waiting for a slot */
    struct req_list active;  /* holding an easy handle */
    struct req_list waiting; /* in backoff before a retry */
    uint64_t nrequests, nerrors;
    uint64_t rng; /* xorshift state for backoff jitter */
    void (*close_cb)(void *ud);
    void *close_ud;
};

struct spoor_s3_client {
    struct spoor_s3_engine *engine;
    struct spoor_s3_config cfg;
    char scheme[8];
    char hostport[256]; /* as written in the endpoint URL */
    bool is_aws;
    int live_requests;
};

/* s3_request.c: fills method, url, host, path, query, headers and the body source of r from
 * r->op; opens and hashes a file body. SPOOR_E_INVALID / -errno with err filled. */
int s3_request_build(struct s3_req *r, struct spoor_error *err);
/* "PUT s3://bucket/key" for messages, into out. */
void s3_req_describe(const struct s3_req *r, char *out, size_t size);

/* s3_result.c */
void s3_result_reset_headers(struct spoor_s3_result *res);
/* One raw header line ("Name: value\r\n") into res. */
void s3_result_header_line(struct spoor_s3_result *res, const char *line, size_t len);
/* Parses a 2xx answer body according to the op kind. */
int s3_result_parse_ok(struct s3_req *r);
/* Fills r->err for a >= 300 answer; returns whether it is worth retrying. */
bool s3_result_http_error(struct s3_req *r, long status);

/* s3_engine.c */
const char *s3_endpoint_label(const struct spoor_s3_client *c, char *out, size_t size);

#endif
