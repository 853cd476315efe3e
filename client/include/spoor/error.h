/*
 * spoor/error.h: error codes and the error detail struct shared by every part of libspoor.
 *
 * Fallible functions return 0 or a negative code: either -errno (system errors such as
 * -ENOENT, -EINVAL) or one of the SPOOR_E_* codes below, which live in their own range so the
 * two never collide. spoor_strerror() and spoor_err_name() describe both kinds.
 *
 * Detail goes into an optional, caller-owned struct spoor_error: the HTTP status, the S3 error
 * code and message, the request id and the endpoint that answered. Functions that take one fill
 * it only when they fail; a NULL pointer means "no detail wanted".
 */
#ifndef SPOOR_ERROR_H
#define SPOOR_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SPOOR_BUILDING)
#define SPOOR_API __attribute__((visibility("default")))
#else
#define SPOOR_API
#endif

enum spoor_errcode {
    SPOOR_E_S3 = -3000, /* the S3 service answered with an error (see s3_code) */
    SPOOR_E_HTTP,       /* an HTTP error status with no S3 error document */
    SPOOR_E_NET,        /* connection, DNS, TLS or transfer failure: no answer was read */
    SPOOR_E_TIMEOUT,    /* the request took longer than its timeout */
    SPOOR_E_PARSE,      /* a peer's answer (XML, JSON, headers) could not be parsed */
    SPOOR_E_TOO_LARGE,  /* a body went past its size ceiling */
    SPOOR_E_CONFIG,     /* configuration missing or invalid (credentials, endpoint, ...) */
    SPOOR_E_INVALID,    /* an argument is invalid (bad key, bad bucket name, ...) */
    SPOOR_E_CANCELED,   /* the operation was canceled before it completed */
    SPOOR_E_READ_ONLY,  /* a write to a read-only route, refused locally */
    SPOOR_E_CALLBACK,   /* a caller's callback asked to stop */
    SPOOR_E_QUEUE_FULL, /* the tracker's queue had no room: the event was dropped */
    SPOOR_E_LAST_
};

struct spoor_error {
    int code;             /* the same value the function returned */
    long http_status;     /* 0 when no HTTP answer was received */
    int attempts;         /* how many times the request was sent */
    char s3_code[64];     /* "NoSuchKey", "SignatureDoesNotMatch", ... or "" */
    char request_id[128]; /* x-amz-request-id of the failing answer, or "" */
    char endpoint[400];   /* endpoint name and URL that served the request */
    char message[768];    /* one human sentence: what failed, where, what to do */
};

/* Static string describing code (SPOOR_E_* or -errno). Never NULL. */
SPOOR_API const char *spoor_strerror(int code);
/* Static short name of code ("SPOOR_E_S3", "ENOENT", ...). Never NULL. */
SPOOR_API const char *spoor_err_name(int code);
/* Fills err (if not NULL) with code and a printf-formatted message; returns code. */
SPOOR_API int spoor_error_set(struct spoor_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Resets err (if not NULL) to "no error". */
SPOOR_API void spoor_error_clear(struct spoor_error *err);

#ifdef __cplusplus
}
#endif
#endif
