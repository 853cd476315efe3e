/*
 * json.h: the JSON the tracker accepts from applications and writes to objects, as pure
 * functions over bytes, without allocation on the checking side.
 *
 * Applications hand payloads (inputs, result, state, attribute values, tags, graph) as JSON
 * text. json_check() validates one on the caller's thread: RFC 8259 syntax, UTF-8 (no
 * overlong forms, surrogates or code points past U+10FFFF, in raw bytes and in \u escapes:
 * a lone surrogate escape is invalid), nesting at most JSON_MAX_DEPTH, and the shape the
 * field needs. It allocates nothing and reads each byte once.
 *
 * json_reemit() writes a valid text again in one of two styles, so that objects are
 * byte-compatible with what Burr's Python writes for the same values:
 *  - JSON_STYLE_COMPACT, pydantic's model_dump_json: no whitespace; strings re-escaped as
 *    serde_json does (\" \\ \b \f \n \r \t, other bytes below 0x20 as \u00xx with lower-case
 *    hex; '/', DEL and non-ASCII written raw as UTF-8; \u escapes of the input decoded first);
 *  - JSON_STYLE_PYTHON, Python's json.dump defaults (Burr's local graph.json/metadata.json):
 *    separators ", " and ": ", ensure_ascii (every non-ASCII code point as \uxxxx with
 *    lower-case hex, astral ones as a surrogate pair), same short escapes as above. DEL
 *    (0x7F) is written \u007f here, as ensure_ascii escapes everything outside ' '..'~'.
 * Numbers, true, false and null are copied as written.
 */
#ifndef SPOOR_JSON_H
#define SPOOR_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define JSON_MAX_DEPTH 128

enum json_kind {
    JSON_KIND_ANY,            /* any value */
    JSON_KIND_OBJECT,         /* an object (inputs, state) */
    JSON_KIND_OBJECT_OR_NULL, /* an object or null (result) */
    JSON_KIND_STRING_MAP,     /* an object whose values are all strings (tags) */
    JSON_KIND_STRING_ARRAY,   /* an array of strings */
};

enum json_style { JSON_STYLE_COMPACT, JSON_STYLE_PYTHON };

/* 0 when text[0..len) is exactly one JSON value of kind (surrounding whitespace allowed);
 * SPOOR_E_INVALID otherwise, with *where (if not NULL) the byte offset of the problem and
 * *why (if not NULL) a static phrase ("unterminated string", "invalid UTF-8", "expected an
 * object", "nesting deeper than 128", ...). */
int json_check(const char *text, size_t len, enum json_kind kind, size_t *where, const char **why);

/* Appends the valid JSON text[0..len) in style to out. SPOOR_E_INVALID if it is not valid
 * (out then unchanged), SPOOR_E_TOO_LARGE past out's ceiling. */
int json_reemit(const char *text, size_t len, enum json_style style, struct buf *out);

/* Appends s[0..len) (valid UTF-8) as a JSON string literal, quotes included, in style. Invalid
 * UTF-8 is SPOOR_E_INVALID. */
int json_put_string(struct buf *out, const char *s, size_t len, enum json_style style);

/* Decodes the inside of a string literal json_check accepted, lit[0..len) (between its quotes),
 * into out (room for len + 1 bytes: decoding never grows) as UTF-8 with a NUL after it. Returns
 * the decoded length; a "\u0000" in it ends the text as a C string. */
size_t json_string_decode(const char *lit, size_t len, char *out);

/* True when s[0..len) is valid UTF-8 (same rules as json_check). */
bool json_utf8_valid(const char *s, size_t len);

#endif
