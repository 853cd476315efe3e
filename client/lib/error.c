/*
 * error.c: names and messages for spoor's error codes, and the struct spoor_error helpers.
 * Codes are either -errno or SPOOR_E_*; the ranges do not overlap (errno values are small).
 */
#include <spoor/error.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    const char *name;
    const char *text;
} codes[] = {
    {SPOOR_E_S3, "SPOOR_E_S3", "the S3 service answered with an error"},
    {SPOOR_E_HTTP, "SPOOR_E_HTTP", "HTTP error status"},
    {SPOOR_E_NET, "SPOOR_E_NET", "network error: no answer from the endpoint"},
    {SPOOR_E_TIMEOUT, "SPOOR_E_TIMEOUT", "request timed out"},
    {SPOOR_E_PARSE, "SPOOR_E_PARSE", "malformed answer"},
    {SPOOR_E_TOO_LARGE, "SPOOR_E_TOO_LARGE", "body larger than its size limit"},
    {SPOOR_E_CONFIG, "SPOOR_E_CONFIG", "invalid or missing configuration"},
    {SPOOR_E_INVALID, "SPOOR_E_INVALID", "invalid argument"},
    {SPOOR_E_CANCELED, "SPOOR_E_CANCELED", "operation canceled"},
    {SPOOR_E_READ_ONLY, "SPOOR_E_READ_ONLY", "route is read-only"},
    {SPOOR_E_CALLBACK, "SPOOR_E_CALLBACK", "stopped by a callback"},
    {SPOOR_E_QUEUE_FULL, "SPOOR_E_QUEUE_FULL", "tracker queue full: event dropped"},
};

const char *spoor_strerror(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return codes[i].text;
    if (code < 0 && code > -4096)
        return strerror(-code);
    return code == 0 ? "success" : "unknown error";
}

const char *spoor_err_name(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return codes[i].name;
    if (code < 0 && code > -4096) {
        const char *n = strerrorname_np(-code);
        return n ? n : "E?";
    }
    return code == 0 ? "OK" : "UNKNOWN";
}

int spoor_error_set(struct spoor_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

void spoor_error_clear(struct spoor_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}
