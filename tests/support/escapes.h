/*
 * escapes.h: the escapes test data files use to write any bytes on one text line: %XX (hex)
 * is that byte, %% a '%', and %*N<S> the text S repeated N times. Header-only.
 */
#ifndef SPOOR_TEST_ESCAPES_H
#define SPOOR_TEST_ESCAPES_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "uri.h"

/* Appends the decoding of s[0..n) to out; false on a malformed escape or a full buffer. */
static inline bool test_unescape(const char *s, size_t n, struct buf *out)
{
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (s[i] != '%') {
            rc = buf_append_byte(out, s[i]);
        } else if (i + 1 < n && s[i + 1] == '%') {
            rc = buf_append_byte(out, '%');
            i++;
        } else if (i + 1 < n && s[i + 1] == '*') {
            char *end;
            unsigned long times = strtoul(s + i + 2, &end, 10);
            const char *close = memchr(end, '>', n - (size_t)(end - s));
            if (*end != '<' || !close)
                return false;
            rc = 0;
            for (unsigned long k = 0; k < times && !rc; k++)
                rc = buf_append(out, end + 1, (size_t)(close - end - 1));
            i = (size_t)(close - s);
        } else {
            int hi = i + 2 < n ? uri_hex_value((unsigned char)s[i + 1]) : -1;
            int lo = hi >= 0 ? uri_hex_value((unsigned char)s[i + 2]) : -1;
            if (lo < 0)
                return false;
            rc = buf_append_byte(out, (char)(hi * 16 + lo));
            i += 2;
        }
        if (rc)
            return false;
    }
    return true;
}

#endif
