/*
 * sigv4.h: AWS Signature Version 4, as pure stages over bytes (no clock, no socket).
 *
 *   request --sigv4_canonical_request--> canonical request
 *           --sigv4_string_to_sign-----> string to sign   (with date and scope)
 *           --sigv4_signing_key + sigv4_signature--> hex signature
 *
 * Each stage can be called and tested on its own against ../shared/testdata/sigv4. Two modes:
 *  - SIGV4_MODE_S3: the path is used exactly as given (it is already the once-encoded path that
 *    goes on the wire); no normalisation, because '.', '..' and '//' are key bytes in S3.
 *  - SIGV4_MODE_GENERIC: AWS's generic rules, used by the aws4_testsuite: the raw path is
 *    normalised (RFC 3986 dot segments removed, repeated '/' collapsed) and then encoded.
 * Query parameters are given decoded; they are encoded with uri_encode and sorted by encoded
 * name, then value. Header names are lower-cased, values trimmed with inner runs of whitespace
 * (including folded lines) collapsed to one space; repeated names are joined with ','.
 */
#ifndef SPOOR_SIGV4_H
#define SPOOR_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_kv {
    const char *name;
    const char *value; /* "" for a parameter without a value */
};

enum sigv4_mode { SIGV4_MODE_S3, SIGV4_MODE_GENERIC };

struct sigv4_request {
    const char *method;
    const char *path; /* see the modes above */
    const struct sigv4_kv *query;
    size_t nquery;
    const struct sigv4_kv *headers; /* every header that is signed; host included */
    size_t nheaders;
    const char *payload_hash; /* hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD */
};

/* Appends the canonical query string (sorted, encoded, '&'-joined) of q to out. This is also
 * the query string the S3 client sends, so the signed and the sent query are the same bytes. */
int sigv4_canonical_query(const struct sigv4_kv *q, size_t n, struct buf *out);

/* Stage 1. Appends the canonical request to out and, if signed_headers is not NULL, the
 * ';'-joined lower-case signed header names to signed_headers. */
int sigv4_canonical_request(const struct sigv4_request *req, enum sigv4_mode mode, struct buf *out,
                            struct buf *signed_headers);

/* Appends "YYYYMMDD/<region>/<service>/aws4_request" to out; amz_date is YYYYMMDDTHHMMSSZ. */
int sigv4_scope(const char *amz_date, const char *region, const char *service, struct buf *out);

/* Stage 2. Appends "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(creq)>" to out. */
int sigv4_string_to_sign(const char *amz_date, const char *scope, const char *creq, size_t creq_len,
                         struct buf *out);

/* Stage 3a. kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service,
 * "aws4_request". */
void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[32]);

/* Stage 3b. Lower-case hex HMAC-SHA256(key, string_to_sign) into hex[65]. */
void sigv4_signature(const unsigned char key[32], const char *sts, size_t sts_len, char hex[65]);

struct sigv4_signer {
    const char *access_key_id;
    const char *secret_access_key;
    const char *region;
    const char *service;  /* "s3" */
    const char *amz_date; /* YYYYMMDDTHHMMSSZ */
};

/* All stages: appends the Authorization header value
 * "AWS4-HMAC-SHA256 Credential=<id>/<scope>, SignedHeaders=<list>, Signature=<hex>" to out.
 * A session token, if any, must already be among req->headers as x-amz-security-token. */
int sigv4_authorization(const struct sigv4_request *req, enum sigv4_mode mode,
                        const struct sigv4_signer *s, struct buf *out);

/* Presigned URL query: appends the full query string (the request's own parameters plus
 * X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 * X-Amz-Security-Token when session_token is not NULL, and X-Amz-Signature last) to out.
 * Only the host header is signed; the payload is UNSIGNED-PAYLOAD. req->headers must hold
 * exactly the host header, req->payload_hash is ignored. S3 mode. */
int sigv4_presign_query(const struct sigv4_request *req, const struct sigv4_signer *s,
                        const char *session_token, long expires_s, struct buf *out);

/* Hex SHA-256 of data into hex[65]. */
void sigv4_sha256_hex(const void *data, size_t n, char hex[65]);
/* t as YYYYMMDDTHHMMSSZ (UTC) into out[17]. */
void sigv4_amz_date(time_t t, char out[17]);

#endif
