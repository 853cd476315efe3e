/*
 * s3_request.c: turns a struct spoor_s3_op into an HTTP request: method, URL (path-style or
 * virtual-host), the headers to sign, and the body source. Pure except for opening and hashing
 * a file body. It does not sign (that happens per attempt in s3_engine.c, because the date
 * changes between retries) and does not talk to the network.
 *
 * The path is encoded once with uri_encode (keeping '/') and is never normalised, so keys such
 * as "a//b", "./x" or "100%+ é" reach the service byte for byte. The query string is the
 * canonical query (sorted, encoded), so the bytes signed are the bytes sent.
 */
#include "s3_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3_xml.h"
#include "uri.h"
#include "util.h"

static const char *const kind_names[] = {
    [SPOOR_S3_PUT_OBJECT] = "PutObject",
    [SPOOR_S3_GET_OBJECT] = "GetObject",
    [SPOOR_S3_HEAD_OBJECT] = "HeadObject",
    [SPOOR_S3_DELETE_OBJECT] = "DeleteObject",
    [SPOOR_S3_DELETE_OBJECTS] = "DeleteObjects",
    [SPOOR_S3_LIST_OBJECTS] = "ListObjectsV2",
    [SPOOR_S3_CREATE_MULTIPART] = "CreateMultipartUpload",
    [SPOOR_S3_UPLOAD_PART] = "UploadPart",
    [SPOOR_S3_COMPLETE_MULTIPART] = "CompleteMultipartUpload",
    [SPOOR_S3_ABORT_MULTIPART] = "AbortMultipartUpload",
    [SPOOR_S3_COPY_OBJECT] = "CopyObject",
    [SPOOR_S3_CREATE_BUCKET] = "CreateBucket",
    [SPOOR_S3_HEAD_BUCKET] = "HeadBucket",
};

static bool kind_has_key(enum spoor_s3_op_kind k)
{
    return k != SPOOR_S3_DELETE_OBJECTS && k != SPOOR_S3_LIST_OBJECTS &&
           k != SPOOR_S3_CREATE_BUCKET && k != SPOOR_S3_HEAD_BUCKET;
}

static int invalid(struct spoor_error *err, const struct spoor_s3_op *op, const char *what)
{
    return spoor_error_set(err, SPOOR_E_INVALID, "%s: %s", s3_op_name(op->kind), what);
}

int s3_op_validate(const struct spoor_s3_op *op, struct spoor_error *err)
{
    if ((unsigned)op->kind > SPOOR_S3_HEAD_BUCKET)
        return invalid(err, op, "unknown operation kind");
    if (!op->bucket || !op->bucket[0] || strchr(op->bucket, '/'))
        return invalid(err, op, "a bucket name is required and cannot contain '/'");
    if (kind_has_key(op->kind) && (!op->key || !op->key[0]))
        return invalid(err, op, "an object key is required");
    if (op->key && strlen(op->key) > 1024)
        return invalid(err, op, "the key is longer than S3's 1024-byte limit");
    bool needs_upload = op->kind == SPOOR_S3_UPLOAD_PART ||
                        op->kind == SPOOR_S3_COMPLETE_MULTIPART ||
                        op->kind == SPOOR_S3_ABORT_MULTIPART;
    if (needs_upload && (!op->upload_id || !op->upload_id[0]))
        return invalid(err, op, "an upload id is required");
    if (op->kind == SPOOR_S3_UPLOAD_PART && (op->part_number < 1 || op->part_number > 10000))
        return invalid(err, op, "the part number must be between 1 and 10000");
    if (op->kind == SPOOR_S3_COMPLETE_MULTIPART && (op->nparts == 0 || !op->parts))
        return invalid(err, op, "at least one part is required");
    if (op->kind == SPOOR_S3_COPY_OBJECT && (!op->src_bucket || !op->src_key || !op->src_key[0]))
        return invalid(err, op, "a source bucket and key are required");
    if (op->kind == SPOOR_S3_DELETE_OBJECTS && (op->nkeys == 0 || op->nkeys > 1000 || !op->keys))
        return invalid(err, op, "between 1 and 1000 keys are required");
    if (op->max_keys < 0)
        return invalid(err, op, "max_keys cannot be negative");
    if (op->body.data && op->body.path)
        return invalid(err, op, "a body is either memory or a file, not both");
    if (op->has_range &&
        (op->range_first < 0 || (op->range_last >= 0 && op->range_last < op->range_first)))
        return invalid(err, op, "the byte range is empty or negative");
    if (op->nmeta > 32)
        return invalid(err, op, "at most 32 user metadata entries are supported");
    return 0;
}

void s3_op_copy(struct arena *a, struct spoor_s3_op *o, const struct spoor_s3_op *op)
{
    *o = *op;
    o->bucket = arena_strdup(a, op->bucket);
    o->key = arena_strdup(a, op->key);
    o->body.path = arena_strdup(a, op->body.path);
    o->content_type = arena_strdup(a, op->content_type);
    o->if_match = arena_strdup(a, op->if_match);
    o->sink.path = arena_strdup(a, op->sink.path);
    o->prefix = arena_strdup(a, op->prefix);
    o->delimiter = arena_strdup(a, op->delimiter);
    o->start_after = arena_strdup(a, op->start_after);
    o->continuation_token = arena_strdup(a, op->continuation_token);
    o->upload_id = arena_strdup(a, op->upload_id);
    o->src_bucket = arena_strdup(a, op->src_bucket);
    o->src_key = arena_strdup(a, op->src_key);
    struct spoor_s3_meta *meta = arena_alloc(a, op->nmeta * sizeof *meta);
    for (size_t i = 0; i < op->nmeta; i++) {
        meta[i].name = arena_strdup(a, op->meta[i].name);
        meta[i].value = arena_strdup(a, op->meta[i].value);
    }
    o->meta = meta;
    struct spoor_s3_part *parts = arena_alloc(a, op->nparts * sizeof *parts);
    for (size_t i = 0; i < op->nparts; i++) {
        parts[i].part_number = op->parts[i].part_number;
        parts[i].etag = arena_strdup(a, op->parts[i].etag ? op->parts[i].etag : "");
    }
    o->parts = parts;
    const char **keys = arena_alloc(a, op->nkeys * sizeof *keys);
    for (size_t i = 0; i < op->nkeys; i++)
        keys[i] = arena_strdup(a, op->keys[i] ? op->keys[i] : "");
    o->keys = keys;
}

const char *s3_op_name(enum spoor_s3_op_kind kind)
{
    return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind]
                                                                     : "unknown operation";
}

bool s3_op_writes(enum spoor_s3_op_kind kind)
{
    switch (kind) {
    case SPOOR_S3_GET_OBJECT:
    case SPOOR_S3_HEAD_OBJECT:
    case SPOOR_S3_LIST_OBJECTS:
    case SPOOR_S3_HEAD_BUCKET:
        return false;
    default:
        return true;
    }
}

void s3_req_describe(const struct s3_req *r, char *out, size_t size)
{
    const struct spoor_s3_op *o = &r->op;
    if (o->key)
        snprintf(out, size, "%s s3://%s/%s", kind_names[o->kind], o->bucket, o->key);
    else
        snprintf(out, size, "%s s3://%s", kind_names[o->kind], o->bucket);
}

static void add_query(struct s3_req *r, const char *name, const char *value)
{
    if (!value)
        return;
    r->query[r->nquery].name = name;
    r->query[r->nquery].value = value;
    r->nquery++;
}

static void add_header(struct s3_req *r, const char *name, const char *value)
{
    if (!value || r->nheaders == S3_MAX_HEADERS)
        return;
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = value;
    r->nheaders++;
}

/* A DNS label-compatible bucket name, usable as a virtual host. */
static bool bucket_is_dns_safe(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
            return false;
    }
    return true;
}

static bool use_virtual_host(const struct spoor_s3_client *c, const char *bucket)
{
    switch (c->cfg.addressing) {
    case SPOOR_S3_ADDRESSING_PATH:
        return false;
    case SPOOR_S3_ADDRESSING_VIRTUAL:
        return bucket_is_dns_safe(bucket);
    default:
        return c->is_aws && bucket_is_dns_safe(bucket);
    }
}

static int build_url(struct s3_req *r)
{
    const struct spoor_s3_client *c = r->c;
    struct buf b;
    buf_init(&b, 16 * 1024);
    bool virt = use_virtual_host(c, r->op.bucket);
    if (virt) {
        buf_printf(&b, "%s.%s", r->op.bucket, c->hostport);
        r->host = arena_strndup(&r->arena, b.data, b.len);
        buf_reset(&b);
    } else {
        r->host = arena_strdup(&r->arena, c->hostport);
    }
    int rc = 0;
    if (!virt) {
        buf_append_byte(&b, '/');
        rc = uri_encode(&b, r->op.bucket, strlen(r->op.bucket), false);
    }
    if (!rc && r->op.key) {
        buf_append_byte(&b, '/');
        rc = uri_encode(&b, r->op.key, strlen(r->op.key), true);
    }
    if (!rc && b.len == 0)
        rc = buf_append_byte(&b, '/');
    if (!rc)
        r->path = arena_strndup(&r->arena, b.data, b.len);
    buf_reset(&b);
    if (!rc)
        rc = buf_printf(&b, "%s://%s%s", c->scheme, r->host, r->path);
    if (!rc && r->nquery) {
        buf_append_byte(&b, '?');
        rc = sigv4_canonical_query(r->query, r->nquery, &b);
    }
    if (!rc)
        r->url = arena_strndup(&r->arena, b.data, b.len);
    buf_cleanup(&b);
    return rc;
}

static void md5_base64(const void *data, size_t len, char out[32])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

/* SHA-256 of a file range, read in pieces. */
static int hash_file_range(int fd, int64_t off, int64_t len, char hex[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    enum { CHUNK = 256 * 1024 };
    unsigned char *chunk = xmalloc(CHUNK);
    int rc = 0;
    while (len > 0) {
        size_t want = len < CHUNK ? (size_t)len : CHUNK;
        ssize_t n = pread(fd, chunk, want, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        EVP_DigestUpdate(ctx, chunk, (size_t)n);
        off += n;
        len -= n;
    }
    free(chunk);
    unsigned char md[32];
    EVP_DigestFinal_ex(ctx, md, NULL);
    EVP_MD_CTX_free(ctx);
    hex_encode(md, 32, hex);
    return rc;
}

static int open_file_body(struct s3_req *r, struct spoor_error *err)
{
    const struct spoor_s3_body *b = &r->op.body;
    int fd = open(b->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return spoor_error_set(err, -errno, "cannot open %s for upload: %s", b->path,
                               strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return spoor_error_set(err, -EINVAL, "%s is not a regular file", b->path);
    }
    int64_t len = b->length < 0 ? st.st_size - b->offset : b->length;
    if (b->offset < 0 || len < 0 || b->offset + len > st.st_size) {
        close(fd);
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "range %" PRId64 "+%" PRId64 " lies outside %s (%" PRId64 " bytes)",
                               b->offset, len, b->path, (int64_t)st.st_size);
    }
    r->body_fd = fd;
    r->body_offset = b->offset;
    r->body_len = len;
    if (r->c->cfg.unsigned_payload)
        return 0;
    int rc = hash_file_range(fd, b->offset, len, r->payload_hash);
    if (rc)
        return spoor_error_set(err, rc, "cannot read %s: %s", b->path, spoor_strerror(rc));
    return 0;
}

static void set_memory_body(struct s3_req *r, const void *data, size_t len)
{
    r->body_data = data;
    r->body_len = (int64_t)len;
    if (!r->c->cfg.unsigned_payload)
        sigv4_sha256_hex(data, len, r->payload_hash);
}

/* The op's own body: a file range, or memory (empty when none was given). */
static int set_op_body(struct s3_req *r, struct spoor_error *err)
{
    const struct spoor_s3_body *b = &r->op.body;
    if (b->path)
        return open_file_body(r, err);
    set_memory_body(r, b->data ? b->data : "", b->data ? b->len : 0);
    return 0;
}

static void add_object_headers(struct s3_req *r)
{
    const struct spoor_s3_op *o = &r->op;
    add_header(r, "content-type", o->content_type);
    for (size_t i = 0; i < o->nmeta; i++) {
        size_t n = strlen(o->meta[i].name);
        char *name = arena_alloc(&r->arena, n + sizeof "x-amz-meta-");
        memcpy(name, "x-amz-meta-", sizeof "x-amz-meta-" - 1);
        for (size_t j = 0; j <= n; j++) {
            char ch = o->meta[i].name[j];
            name[sizeof "x-amz-meta-" - 1 + j] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
        add_header(r, name, o->meta[i].value);
    }
}

static int build_xml_body(struct s3_req *r, struct spoor_error *err)
{
    const struct spoor_s3_op *o = &r->op;
    buf_init(&r->xml_body, S3_XML_MAX_BYTES);
    int rc = o->kind == SPOOR_S3_DELETE_OBJECTS
                 ? s3_xml_build_delete(&r->xml_body, o->keys, o->nkeys, o->quiet)
                 : s3_xml_build_complete(&r->xml_body, o->parts, o->nparts);
    if (rc)
        return spoor_error_set(err, rc, "%s: cannot build the request body (%s)",
                               kind_names[o->kind], spoor_strerror(rc));
    set_memory_body(r, r->xml_body.data, r->xml_body.len);
    if (o->kind == SPOOR_S3_DELETE_OBJECTS) {
        char md5[32];
        md5_base64(r->xml_body.data, r->xml_body.len, md5);
        add_header(r, "content-md5", arena_strdup(&r->arena, md5));
    }
    add_header(r, "content-type", "application/xml");
    return 0;
}

static void build_list_query(struct s3_req *r)
{
    const struct spoor_s3_op *o = &r->op;
    add_query(r, "list-type", "2");
    add_query(r, "encoding-type", "url");
    add_query(r, "prefix", o->prefix);
    add_query(r, "delimiter", o->delimiter);
    add_query(r, "start-after", o->start_after);
    add_query(r, "continuation-token", o->continuation_token);
    if (o->max_keys > 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", o->max_keys);
        add_query(r, "max-keys", arena_strdup(&r->arena, n));
    }
}

static void build_copy_headers(struct s3_req *r)
{
    const struct spoor_s3_op *o = &r->op;
    struct buf b;
    buf_init(&b, 8192);
    buf_append_byte(&b, '/');
    uri_encode(&b, o->src_bucket, strlen(o->src_bucket), false);
    buf_append_byte(&b, '/');
    uri_encode(&b, o->src_key, strlen(o->src_key), true);
    add_header(r, "x-amz-copy-source", arena_strndup(&r->arena, b.data, b.len));
    buf_cleanup(&b);
    if (o->replace_meta) {
        add_header(r, "x-amz-metadata-directive", "REPLACE");
        add_object_headers(r);
    }
}

static void build_range_header(struct s3_req *r)
{
    const struct spoor_s3_op *o = &r->op;
    char range[64];
    if (o->range_last >= 0)
        snprintf(range, sizeof range, "bytes=%" PRId64 "-%" PRId64, o->range_first, o->range_last);
    else
        snprintf(range, sizeof range, "bytes=%" PRId64 "-", o->range_first);
    add_header(r, "range", arena_strdup(&r->arena, range));
}

static void build_create_bucket_body(struct s3_req *r)
{
    const char *region = r->c->cfg.region;
    if (!region[0] || strcmp(region, "us-east-1") == 0)
        return;
    buf_init(&r->xml_body, 4096);
    buf_printf(&r->xml_body,
               "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
               "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
               region);
    set_memory_body(r, r->xml_body.data, r->xml_body.len);
}

static int build_by_kind(struct s3_req *r, struct spoor_error *err)
{
    const struct spoor_s3_op *o = &r->op;
    char num[16];
    switch (o->kind) {
    case SPOOR_S3_PUT_OBJECT:
        r->method = "PUT";
        add_object_headers(r);
        if (o->content_md5 && o->body.data) {
            char md5[32];
            md5_base64(o->body.data, o->body.len, md5);
            add_header(r, "content-md5", arena_strdup(&r->arena, md5));
        }
        return set_op_body(r, err);
    case SPOOR_S3_GET_OBJECT:
        r->method = "GET";
        if (o->has_range)
            build_range_header(r);
        add_header(r, "if-match", o->if_match);
        return 0;
    case SPOOR_S3_HEAD_OBJECT:
    case SPOOR_S3_HEAD_BUCKET:
        r->method = "HEAD";
        return 0;
    case SPOOR_S3_DELETE_OBJECT:
        r->method = "DELETE";
        return 0;
    case SPOOR_S3_DELETE_OBJECTS:
        r->method = "POST";
        add_query(r, "delete", "");
        return build_xml_body(r, err);
    case SPOOR_S3_LIST_OBJECTS:
        r->method = "GET";
        build_list_query(r);
        return 0;
    case SPOOR_S3_CREATE_MULTIPART:
        r->method = "POST";
        add_query(r, "uploads", "");
        add_object_headers(r);
        return 0;
    case SPOOR_S3_UPLOAD_PART:
        r->method = "PUT";
        snprintf(num, sizeof num, "%d", o->part_number);
        add_query(r, "partNumber", arena_strdup(&r->arena, num));
        add_query(r, "uploadId", o->upload_id);
        return set_op_body(r, err);
    case SPOOR_S3_COMPLETE_MULTIPART:
        r->method = "POST";
        add_query(r, "uploadId", o->upload_id);
        return build_xml_body(r, err);
    case SPOOR_S3_ABORT_MULTIPART:
        r->method = "DELETE";
        add_query(r, "uploadId", o->upload_id);
        return 0;
    case SPOOR_S3_COPY_OBJECT:
        r->method = "PUT";
        build_copy_headers(r);
        return 0;
    case SPOOR_S3_CREATE_BUCKET:
        r->method = "PUT";
        build_create_bucket_body(r);
        return 0;
    }
    return invalid(err, o, "unknown operation kind");
}

int s3_request_build(struct s3_req *r, struct spoor_error *err)
{
    r->body_fd = -1;
    str_copy(r->payload_hash, sizeof r->payload_hash,
             r->c->cfg.unsigned_payload ? SIGV4_UNSIGNED_PAYLOAD : SIGV4_EMPTY_SHA256);
    int rc = build_by_kind(r, err);
    if (rc)
        return rc;
    rc = build_url(r);
    if (rc)
        return spoor_error_set(err, rc, "cannot build the URL for s3://%s/%s", r->op.bucket,
                               r->op.key ? r->op.key : "");
    return 0;
}
