/*
 * uri.h: percent-encoding as S3 and SigV4 want it. Pure functions over bytes.
 *
 * Encoding keeps the unreserved set A-Z a-z 0-9 - _ . ~ (and '/' when asked) and writes every
 * other byte as %XX with upper-case hex: a space is %20, never '+'. The same encoding is used for
 * the wire and for the canonical request, so what is signed is exactly what is sent.
 */
#ifndef SPOOR_URI_H
#define SPOOR_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends the encoding of s[0..n) to out. */
int uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash);
/* Appends the decoding of s[0..n) to out. A '%' not followed by two hex digits is
 * SPOOR_E_PARSE; '+' becomes a space only when plus_as_space. A decoded NUL byte is
 * SPOOR_E_PARSE as well (keys and values are C strings in spoor). */
int uri_decode(struct buf *out, const char *s, size_t n, bool plus_as_space);
/* The value of hex digit c (either case), or -1. */
int uri_hex_value(unsigned char c);
/* True for the bytes that are never encoded. */
bool uri_is_unreserved(unsigned char c);

#endif
