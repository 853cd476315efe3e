/*
 * sigv4.c: AWS Signature Version 4 as pure stages over bytes. See sigv4.h for the contract.
 *
 * What it is not: it reads no clock (the caller passes amz_date), sends nothing, and knows no
 * credentials store; it does not add headers to a request (the caller puts host,
 * x-amz-date, x-amz-content-sha256 and x-amz-security-token among the signed headers itself),
 * and it does not implement chunked (streaming) payload signatures.
 *
 * Invariants:
 *  - Every public function that appends to a caller's buffer appends everything or nothing: on
 *    error the buffer is truncated back to the length it had on entry.
 *  - Intermediate stages live in buffers capped at WORK_MAX_BYTES, so a hostile header or query
 *    cannot make signing allocate without limit.
 *  - Key material (the "AWS4"+secret string and every derived key) is wiped before its memory is
 *    released. A libcrypto failure can only mean allocation failure and aborts, as for xmalloc.
 *  - Validation of the inputs is an error return (SPOOR_E_INVALID), never an assert: header names
 *    and query parameters may come from a user's configuration or a forwarded request.
 */
#include "sigv4.h"

#include <spoor/error.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "uri.h"
#include "util.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
/* Ceiling for each intermediate stage. Real canonical requests are a few KiB (S3 refuses
 * request headers past 8 KiB); a megabyte leaves room without being unbounded. */
#define WORK_MAX_BYTES (1024u * 1024)
/* S3 refuses presigned URLs valid for longer than seven days. */
#define PRESIGN_MAX_EXPIRES_S 604800L

static void crypto_fail(const char *what)
{
    fprintf(stderr, "spoor: libcrypto failure in %s\n", what);
    abort();
}

static void hmac_sha256(const void *key, size_t key_len, const void *data, size_t n,
                        unsigned char out[32])
{
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, n, out, &len) || len != 32)
        crypto_fail("HMAC-SHA256");
}

void sigv4_sha256_hex(const void *data, size_t n, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(n ? data : "", n, md, &len, EVP_sha256(), NULL) || len != 32)
        crypto_fail("SHA-256");
    hex_encode(md, 32, hex);
}

/* Undoes a partial append: the all-or-nothing invariant above. */
static void truncate_to(struct buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

/* ---- Stage 0: the canonical query ---------------------------------------------------------- */

struct qparam {
    char *name;  /* encoded */
    char *value; /* encoded */
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static int encode_dup(const char *s, char **out)
{
    struct buf b;
    buf_init(&b, WORK_MAX_BYTES);
    int rc = uri_encode(&b, s, strlen(s), false);
    if (rc) {
        buf_cleanup(&b);
        return rc;
    }
    *out = buf_take(&b, NULL);
    return 0;
}

int sigv4_canonical_query(const struct sigv4_kv *q, size_t n, struct buf *out)
{
    size_t mark = out->len;
    struct qparam *p = NULL;
    int rc = 0;
    if (n && !q)
        return SPOOR_E_INVALID;
    p = xcalloc(n, sizeof *p);
    for (size_t i = 0; i < n && !rc; i++) {
        if (!q[i].name || !q[i].name[0]) {
            rc = SPOOR_E_INVALID;
            break;
        }
        rc = encode_dup(q[i].name, &p[i].name);
        if (!rc)
            rc = encode_dup(q[i].value ? q[i].value : "", &p[i].value);
    }
    if (rc)
        goto fail;
    qsort(p, n, sizeof *p, qparam_cmp);
    for (size_t i = 0; i < n && !rc; i++)
        rc = buf_printf(out, "%s%s=%s", i ? "&" : "", p[i].name, p[i].value);
fail:
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
    if (rc)
        truncate_to(out, mark);
    return rc;
}

/* ---- Stage 1: the canonical request ---------------------------------------------------------- */

/* Header names and the method are RFC 9110 tokens: visible ASCII without separators. */
static bool valid_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            return false;
    }
    return true;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends v with leading and trailing whitespace removed and every inner run of whitespace
 * (folded lines included) replaced by one space. */
static int append_trimmed(struct buf *out, const char *v)
{
    bool pending = false, any = false;
    for (; *v; v++) {
        if (is_ws(*v)) {
            pending = any;
            continue;
        }
        int rc = pending ? buf_append_byte(out, ' ') : 0;
        if (!rc)
            rc = buf_append_byte(out, *v);
        if (rc)
            return rc;
        pending = false;
        any = true;
    }
    return 0;
}

struct hdr {
    char *name; /* lower-cased copy */
    const char *value;
    size_t idx; /* position in the request, so repeated names keep their order */
};

static int hdr_cmp(const void *a, const void *b)
{
    const struct hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void hdrs_free(struct hdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(h[i].name);
    free(h);
}

/* Lower-cases, validates and sorts the headers; *out is new (hdrs_free) on success. */
static int hdrs_sorted(const struct sigv4_kv *headers, size_t n, struct hdr **out)
{
    bool has_host = false;
    if (!n || !headers)
        return SPOOR_E_INVALID;
    struct hdr *h = xcalloc(n, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        if (!valid_token(headers[i].name) || !headers[i].value) {
            hdrs_free(h, n);
            return SPOOR_E_INVALID;
        }
        h[i].name = xstrdup(headers[i].name);
        for (char *c = h[i].name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        h[i].value = headers[i].value;
        h[i].idx = i;
        has_host = has_host || strcmp(h[i].name, "host") == 0;
    }
    if (!has_host) {
        hdrs_free(h, n);
        return SPOOR_E_INVALID;
    }
    qsort(h, n, sizeof *h, hdr_cmp);
    *out = h;
    return 0;
}

/* Appends "name:value[,value]\n" per distinct name to out, and the ';'-joined names to names. */
static int canonical_headers(const struct sigv4_kv *headers, size_t n, struct buf *out,
                             struct buf *names)
{
    struct hdr *h = NULL;
    int rc = hdrs_sorted(headers, n, &h);
    for (size_t i = 0; i < n && !rc; i++) {
        bool repeat = i && strcmp(h[i].name, h[i - 1].name) == 0;
        if (repeat) {
            rc = buf_append_byte(out, ',');
        } else {
            rc = buf_printf(out, "%s%s:", i ? "\n" : "", h[i].name);
            if (!rc)
                rc = buf_printf(names, "%s%s", i ? ";" : "", h[i].name);
        }
        if (!rc)
            rc = append_trimmed(out, h[i].value);
    }
    if (!rc)
        rc = buf_append_byte(out, '\n');
    if (h)
        hdrs_free(h, n);
    return rc;
}

/* S3 mode takes the wire path, so it must already be encoded: only unreserved bytes, '/', and
 * '%' with two hex digits. Anything else would be signed differently from what is sent. */
static bool is_encoded_path(const char *p)
{
    for (; *p; p++) {
        if (*p == '%') {
            if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
                return false;
            p += 2;
        } else if (*p != '/' && !uri_is_unreserved((unsigned char)*p)) {
            return false;
        }
    }
    return true;
}

/* RFC 3986 remove_dot_segments with empty segments dropped, then encoded once. A path whose
 * last segment is empty, "." or ".." names a directory and keeps its trailing '/'. */
static int normalized_path(const char *path, struct buf *out)
{
    struct buf seg;
    buf_init(&seg, WORK_MAX_BYTES);
    bool dir = false;
    int rc = 0;
    for (const char *p = path; *p && !rc;) {
        p++; /* the '/' */
        size_t n = strcspn(p, "/");
        dir = n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash = seg.len ? strrchr(seg.data, '/') : NULL;
            truncate_to(&seg, slash ? (size_t)(slash - seg.data) : 0);
        } else if (!dir) {
            rc = buf_append_byte(&seg, '/');
            if (!rc)
                rc = buf_append(&seg, p, n);
        }
        p += n;
    }
    if (!rc && (seg.len == 0 || dir))
        rc = buf_append_byte(&seg, '/');
    if (!rc)
        rc = uri_encode(out, seg.data, seg.len, true);
    buf_cleanup(&seg);
    return rc;
}

static int canonical_path(const char *path, enum sigv4_mode mode, struct buf *out)
{
    if (!path || !*path)
        return buf_append_byte(out, '/');
    if (path[0] != '/')
        return SPOOR_E_INVALID;
    if (mode == SIGV4_MODE_GENERIC)
        return normalized_path(path, out);
    if (!is_encoded_path(path))
        return SPOOR_E_INVALID;
    return buf_append_str(out, path);
}

int sigv4_canonical_request(const struct sigv4_request *req, enum sigv4_mode mode, struct buf *out,
                            struct buf *signed_headers)
{
    size_t mark = out->len;
    struct buf names;
    buf_init(&names, WORK_MAX_BYTES);
    int rc = SPOOR_E_INVALID;
    if ((mode != SIGV4_MODE_S3 && mode != SIGV4_MODE_GENERIC) || !valid_token(req->method) ||
        !req->payload_hash || !*req->payload_hash)
        goto fail;
    rc = buf_printf(out, "%s\n", req->method);
    if (!rc)
        rc = canonical_path(req->path, mode, out);
    if (!rc)
        rc = buf_append_byte(out, '\n');
    if (!rc)
        rc = sigv4_canonical_query(req->query, req->nquery, out);
    if (!rc)
        rc = buf_append_byte(out, '\n');
    if (!rc)
        rc = canonical_headers(req->headers, req->nheaders, out, &names);
    if (!rc)
        rc = buf_printf(out, "\n%s\n%s", names.data, req->payload_hash);
    if (!rc && signed_headers)
        rc = buf_append(signed_headers, names.data, names.len);
fail:
    buf_cleanup(&names);
    if (rc)
        truncate_to(out, mark);
    return rc;
}

/* ---- Stage 2: scope and string to sign ------------------------------------------------------- */

static bool valid_amz_date(const char *d)
{
    if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return false;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)d[i]))
            return false;
    return true;
}

/* Region, service and access key id end up between '/' in the scope and inside the
 * comma-separated Authorization value: visible ASCII without '/', ',' or '='. */
static bool valid_scope_part(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',' || c == '=')
            return false;
    }
    return true;
}

int sigv4_scope(const char *amz_date, const char *region, const char *service, struct buf *out)
{
    if (!valid_amz_date(amz_date) || !valid_scope_part(region) || !valid_scope_part(service))
        return SPOOR_E_INVALID;
    return buf_printf(out, "%.8s/%s/%s/aws4_request", amz_date, region, service);
}

int sigv4_string_to_sign(const char *amz_date, const char *scope, const char *creq, size_t creq_len,
                         struct buf *out)
{
    char hex[65];
    if (!valid_amz_date(amz_date) || !scope || !*scope || (!creq && creq_len))
        return SPOOR_E_INVALID;
    sigv4_sha256_hex(creq, creq_len, hex);
    return buf_printf(out, ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hex);
}

/* ---- Stage 3: signing key and signature ------------------------------------------------------ */

void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[32])
{
    size_t n = strlen(secret) + 4;
    char *k0 = xmalloc(n + 1);
    unsigned char k1[32], k2[32], k3[32];
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, n - 4);
    hmac_sha256(k0, n, date8, strlen(date8), k1);
    hmac_sha256(k1, 32, region, strlen(region), k2);
    hmac_sha256(k2, 32, service, strlen(service), k3);
    hmac_sha256(k3, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k0, n);
    OPENSSL_cleanse(k1, 32);
    OPENSSL_cleanse(k2, 32);
    OPENSSL_cleanse(k3, 32);
    free(k0);
}

void sigv4_signature(const unsigned char key[32], const char *sts, size_t sts_len, char hex[65])
{
    unsigned char mac[32];
    hmac_sha256(key, 32, sts_len ? sts : "", sts_len, mac);
    hex_encode(mac, 32, hex);
}

/* ---- All stages ------------------------------------------------------------------------------ */

static bool valid_signer(const struct sigv4_signer *s)
{
    return s && valid_scope_part(s->access_key_id) && s->secret_access_key &&
           valid_scope_part(s->region) && valid_scope_part(s->service) &&
           valid_amz_date(s->amz_date);
}

/* Runs stages 1 to 3: appends the scope and the signed header names, writes the signature. */
static int sign(const struct sigv4_request *req, enum sigv4_mode mode, const struct sigv4_signer *s,
                struct buf *scope, struct buf *names, char hex[65])
{
    struct buf creq, sts;
    unsigned char key[32];
    char date8[9];
    buf_init(&creq, WORK_MAX_BYTES);
    buf_init(&sts, WORK_MAX_BYTES);
    int rc = valid_signer(s) ? 0 : SPOOR_E_INVALID;
    if (!rc)
        rc = sigv4_canonical_request(req, mode, &creq, names);
    if (!rc)
        rc = sigv4_scope(s->amz_date, s->region, s->service, scope);
    if (!rc)
        rc = sigv4_string_to_sign(s->amz_date, scope->data, creq.data, creq.len, &sts);
    if (rc)
        goto fail;
    memcpy(date8, s->amz_date, 8);
    date8[8] = '\0';
    sigv4_signing_key(s->secret_access_key, date8, s->region, s->service, key);
    sigv4_signature(key, sts.data, sts.len, hex);
    OPENSSL_cleanse(key, sizeof key);
fail:
    buf_cleanup(&creq);
    buf_cleanup(&sts);
    return rc;
}

int sigv4_authorization(const struct sigv4_request *req, enum sigv4_mode mode,
                        const struct sigv4_signer *s, struct buf *out)
{
    struct buf scope, names;
    char hex[65];
    buf_init(&scope, WORK_MAX_BYTES);
    buf_init(&names, WORK_MAX_BYTES);
    int rc = sign(req, mode, s, &scope, &names, hex);
    if (!rc)
        rc = buf_printf(out, ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                        s->access_key_id, scope.data, names.data, hex);
    buf_cleanup(&scope);
    buf_cleanup(&names);
    return rc;
}

/* ---- Presigned URLs -------------------------------------------------------------------------- */

static const char *const presign_names[] = {
    "X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",      "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
};

/* The request's own parameters may not name one of ours: the URL would carry two. */
static bool reserved_query_name(const char *name)
{
    for (size_t i = 0; i < sizeof presign_names / sizeof presign_names[0]; i++)
        if (name && strcasecmp(name, presign_names[i]) == 0)
            return true;
    return false;
}

static int presign_check(const struct sigv4_request *req, const struct sigv4_signer *s,
                         long expires_s)
{
    if (!valid_signer(s) || expires_s < 1 || expires_s > PRESIGN_MAX_EXPIRES_S)
        return SPOOR_E_INVALID;
    if (req->nheaders != 1 || !req->headers || !req->headers[0].name ||
        strcasecmp(req->headers[0].name, "host") != 0)
        return SPOOR_E_INVALID;
    if (req->nquery && !req->query)
        return SPOOR_E_INVALID;
    for (size_t i = 0; i < req->nquery; i++)
        if (reserved_query_name(req->query[i].name))
            return SPOOR_E_INVALID;
    return 0;
}

int sigv4_presign_query(const struct sigv4_request *req, const struct sigv4_signer *s,
                        const char *session_token, long expires_s, struct buf *out)
{
    size_t mark = out->len, n = req->nquery;
    struct buf cred, scope;
    char expires[24], hex[65];
    struct sigv4_kv *q = NULL;
    buf_init(&cred, WORK_MAX_BYTES);
    buf_init(&scope, WORK_MAX_BYTES);
    int rc = presign_check(req, s, expires_s);
    if (!rc)
        rc = buf_printf(&cred, "%s/", s->access_key_id);
    if (!rc)
        rc = sigv4_scope(s->amz_date, s->region, s->service, &cred);
    if (rc)
        goto fail;
    snprintf(expires, sizeof expires, "%ld", expires_s);
    q = xcalloc(n + 6, sizeof *q);
    if (n)
        memcpy(q, req->query, n * sizeof *q);
    q[n++] = (struct sigv4_kv){"X-Amz-Algorithm", ALGORITHM};
    q[n++] = (struct sigv4_kv){"X-Amz-Credential", cred.data};
    q[n++] = (struct sigv4_kv){"X-Amz-Date", s->amz_date};
    q[n++] = (struct sigv4_kv){"X-Amz-Expires", expires};
    q[n++] = (struct sigv4_kv){"X-Amz-SignedHeaders", "host"};
    if (session_token)
        q[n++] = (struct sigv4_kv){"X-Amz-Security-Token", session_token};
    struct sigv4_request r = *req;
    r.query = q;
    r.nquery = n;
    r.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
    rc = sign(&r, SIGV4_MODE_S3, s, &scope, NULL, hex);
    if (!rc)
        rc = sigv4_canonical_query(q, n, out);
    if (!rc)
        rc = buf_printf(out, "&X-Amz-Signature=%s", hex);
fail:
    free(q);
    buf_cleanup(&cred);
    buf_cleanup(&scope);
    if (rc)
        truncate_to(out, mark);
    return rc;
}

void sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;
    /* A time outside the years 1000-9999 yields "", which sigv4_scope then refuses. */
    if (!gmtime_r(&t, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16 ||
        !valid_amz_date(out))
        out[0] = '\0';
}
