/*
 * s3_result.c: from HTTP answer to struct spoor_s3_result and struct spoor_error.
 *
 * Headers are collected as they arrive (an interim "100 Continue" resets them); a 2xx body is
 * parsed according to the operation; a >= 300 answer is turned into an error whose message
 * names the operation, the endpoint, the S3 code and what to do, and the retry decision is
 * made here: 5xx, SlowDown, RequestTimeout and friends are worth another try, other 4xx never.
 */
#include "s3_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_xml.h"
#include "util.h"

void spoor_s3_result_cleanup(struct spoor_s3_result *res)
{
    s3_result_reset_headers(res);
    free(res->body);
    s3_xml_list_cleanup(&res->list);
    free(res->upload_id);
    for (size_t i = 0; i < res->ndeleted; i++)
        free(res->deleted[i]);
    free(res->deleted);
    for (size_t i = 0; i < res->ndelete_errors; i++) {
        free(res->delete_errors[i].key);
        free(res->delete_errors[i].code);
        free(res->delete_errors[i].message);
    }
    free(res->delete_errors);
    memset(res, 0, sizeof *res);
    res->content_length = -1;
    res->object_size = -1;
}

/* Metadata names compare case-insensitively with '_' equal to '-': Ceph RGW hands back
 * x-amz-meta-min_sequence_id as x-amz-meta-min-sequence-id. */
static bool meta_name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a == '_' ? '-' : (char)tolower((unsigned char)*a);
        char y = *b == '_' ? '-' : (char)tolower((unsigned char)*b);
        if (x != y)
            return false;
        if (!x)
            return true;
    }
}

const char *spoor_s3_result_meta(const struct spoor_s3_result *res, const char *name)
{
    for (size_t i = 0; i < res->nmeta; i++)
        if (meta_name_eq(res->meta[i].name, name))
            return res->meta[i].value;
    return NULL;
}

void s3_result_reset_headers(struct spoor_s3_result *res)
{
    free(res->etag);
    free(res->request_id);
    free(res->content_type);
    free(res->last_modified);
    for (size_t i = 0; i < res->nmeta; i++) {
        free(res->meta[i].name);
        free(res->meta[i].value);
    }
    free(res->meta);
    res->etag = res->request_id = res->content_type = res->last_modified = NULL;
    res->meta = NULL;
    res->nmeta = 0;
    res->http_status = 0;
    res->content_length = -1;
    res->object_size = -1;
}

static void set_str(char **field, const char *v, size_t n)
{
    free(*field);
    *field = xstrndup(v, n);
}

static int64_t parse_i64(const char *v, size_t n)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long long x = strtoll(tmp, &end, 10);
    return (errno || *end || x < 0) ? -1 : (int64_t)x;
}

static void add_meta(struct spoor_s3_result *res, const char *name, size_t nlen, const char *v,
                     size_t vlen)
{
    res->meta = xrealloc(res->meta, (res->nmeta + 1) * sizeof *res->meta);
    char *lname = xstrndup(name, nlen);
    for (char *p = lname; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    res->meta[res->nmeta].name = lname;
    res->meta[res->nmeta].value = xstrndup(v, vlen);
    res->nmeta++;
}

/* "bytes 0-9/443" -> 443 */
static int64_t content_range_total(const char *v, size_t n)
{
    const char *slash = memchr(v, '/', n);
    if (!slash)
        return -1;
    return parse_i64(slash + 1, n - (size_t)(slash + 1 - v));
}

void s3_result_header_line(struct spoor_s3_result *res, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        s3_result_reset_headers(res);
        return;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
#define IS(h) (nlen == sizeof(h) - 1 && str_ieq_n(line, h, nlen))
    if (IS("etag"))
        set_str(&res->etag, v, vlen);
    else if (IS("x-amz-request-id"))
        set_str(&res->request_id, v, vlen);
    else if (IS("content-type"))
        set_str(&res->content_type, v, vlen);
    else if (IS("last-modified"))
        set_str(&res->last_modified, v, vlen);
    else if (IS("content-length")) {
        res->content_length = parse_i64(v, vlen);
        if (res->object_size < 0)
            res->object_size = res->content_length;
    } else if (IS("content-range"))
        res->object_size = content_range_total(v, vlen);
    else if (nlen > 11 && str_ieq_n(line, "x-amz-meta-", 11))
        add_meta(res, line + 11, nlen - 11, v, vlen);
#undef IS
}

/* What the user can do about an S3 error code, or NULL. */
static const char *hint_for(const char *code)
{
    static const struct {
        const char *code, *hint;
    } hints[] = {
        {"SignatureDoesNotMatch", "check the secret access key configured for this endpoint"},
        {"InvalidAccessKeyId", "check the access key id configured for this endpoint"},
        {"AccessDenied", "check that these credentials may use this bucket and key"},
        {"NoSuchBucket", "check the bucket name, or create the bucket"},
        {"NoSuchKey", "the object does not exist"},
        {"RequestTimeTooSkewed", "check this machine's clock"},
        {"AuthorizationHeaderMalformed", "check the region configured for this endpoint"},
        {"PermanentRedirect", "the bucket lives in another region: set that region"},
        {"SlowDown", "the service is throttling requests; retry later or lower concurrency"},
    };
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
        if (strcmp(code, hints[i].code) == 0)
            return hints[i].hint;
    return NULL;
}

static bool code_is_retryable(const char *code)
{
    static const char *const codes[] = {
        "SlowDown",   "RequestTimeout",      "InternalError",       "ServiceUnavailable",
        "Throttling", "ThrottlingException", "RequestLimitExceeded"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

/* A body-less error (HEAD, or a proxy's answer): a code from the status. */
static const char *code_from_status(const struct s3_req *r, long status)
{
    bool bucket_op = r->op.kind == SPOOR_S3_HEAD_BUCKET || r->op.kind == SPOOR_S3_CREATE_BUCKET;
    switch (status) {
    case 404:
        return bucket_op ? "NoSuchBucket" : "NoSuchKey";
    case 403:
        return "AccessDenied";
    case 412:
        return "PreconditionFailed";
    case 503:
        return "SlowDown";
    default:
        return "";
    }
}

static void fill_s3_error(struct s3_req *r, long status, const struct s3_xml_error *x)
{
    char what[1400], ep[400];
    s3_req_describe(r, what, sizeof what);
    s3_endpoint_label(r->c, ep, sizeof ep);
    struct spoor_error *e = &r->err;
    const char *hint = hint_for(x->code);
    str_copy(e->s3_code, sizeof e->s3_code, x->code);
    str_copy(e->request_id, sizeof e->request_id,
             x->request_id[0] ? x->request_id : (r->res.request_id ? r->res.request_id : ""));
    e->http_status = status;
    spoor_error_set(e, x->code[0] ? SPOOR_E_S3 : SPOOR_E_HTTP, "%s on %s: %s%s%s (HTTP %ld)%s%s",
                    what, ep, x->code[0] ? x->code : "HTTP error", x->message[0] ? ": " : "",
                    x->message, status, hint ? "; " : "", hint ? hint : "");
}

bool s3_result_http_error(struct s3_req *r, long status)
{
    struct s3_xml_error x;
    memset(&x, 0, sizeof x);
    if (r->errbody.len == 0 || s3_xml_parse_error(r->errbody.data, r->errbody.len, &x) != 0)
        str_copy(x.code, sizeof x.code, code_from_status(r, status));
    fill_s3_error(r, status, &x);
    return status >= 500 || code_is_retryable(x.code);
}

static int parse_etag_answer(struct s3_req *r)
{
    char *etag = NULL;
    struct s3_xml_error x;
    memset(&x, 0, sizeof x);
    int rc = s3_xml_parse_etag_result(r->resp.data, r->resp.len, &etag, &x, &r->err);
    if (rc == SPOOR_E_S3) {
        fill_s3_error(r, r->res.http_status, &x);
        return SPOOR_E_S3;
    }
    if (rc)
        return rc;
    if (etag[0] || !r->res.etag) {
        free(r->res.etag);
        r->res.etag = etag;
    } else {
        free(etag);
    }
    return 0;
}

static void replace_str(char **field, const char *v)
{
    free(*field);
    *field = xstrdup_or_null(v);
}

/* The echoed request fields are what we sent, not what the service says: RGW echoes them
 * unencoded even under encoding-type=url, so decoding its echo can change them. */
static int parse_list_answer(struct s3_req *r)
{
    struct spoor_s3_list *l = &r->res.list;
    int rc = s3_xml_parse_list(r->resp.data ? r->resp.data : "", r->resp.len, l, &r->err);
    if (rc)
        return rc;
    replace_str(&l->prefix, r->op.prefix);
    replace_str(&l->delimiter, r->op.delimiter);
    replace_str(&l->start_after, r->op.start_after);
    replace_str(&l->continuation_token, r->op.continuation_token);
    return 0;
}

int s3_result_parse_ok(struct s3_req *r)
{
    struct spoor_s3_result *res = &r->res;
    const char *body = r->resp.data ? r->resp.data : "";
    switch (r->op.kind) {
    case SPOOR_S3_LIST_OBJECTS:
        return parse_list_answer(r);
    case SPOOR_S3_CREATE_MULTIPART:
        return s3_xml_parse_initiate(body, r->resp.len, &res->upload_id, &r->err);
    case SPOOR_S3_COMPLETE_MULTIPART:
    case SPOOR_S3_COPY_OBJECT:
        return parse_etag_answer(r);
    case SPOOR_S3_DELETE_OBJECTS:
        return s3_xml_parse_delete_result(body, r->resp.len, &res->deleted, &res->ndeleted,
                                          &res->delete_errors, &res->ndelete_errors, &r->err);
    case SPOOR_S3_GET_OBJECT:
        if (!r->op.sink.data_cb && !r->op.sink.path)
            res->body = buf_take(&r->resp, &res->body_len);
        return 0;
    default:
        return 0;
    }
}
