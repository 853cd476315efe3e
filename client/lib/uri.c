/*
 * uri.c: percent-encoding and decoding. See uri.h.
 */
#include "uri.h"

#include <spoor/error.h>

int uri_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool uri_is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (uri_is_unreserved(c) || (keep_slash && c == '/')) {
            rc = buf_append_byte(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = buf_append(out, e, 3);
        }
        if (rc)
            return rc;
    }
    return 0;
}

int uri_decode(struct buf *out, const char *s, size_t n, bool plus_as_space)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return SPOOR_E_PARSE;
            int hi = uri_hex_value((unsigned char)s[i + 1]);
            int lo = uri_hex_value((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return SPOOR_E_PARSE;
            c = (unsigned char)(hi * 16 + lo);
            if (c == 0)
                return SPOOR_E_PARSE;
            i += 2;
        } else if (c == '+' && plus_as_space) {
            c = ' ';
        }
        int rc = buf_append_byte(out, (char)c);
        if (rc)
            return rc;
    }
    return 0;
}
