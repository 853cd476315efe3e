/*
 * json.c: checking and re-emitting the JSON texts applications hand to the tracker. See json.h.
 *
 * json_check is one forward pass over the bytes with no allocation and no recursion: nesting is
 * a 128-bit stack (one bit a level, 1 = object, 0 = array) and the loop alternates between two
 * positions, "a value is due" and "a value just ended". Strings are scanned eight bytes at a
 * time until a byte needs a look (quote, backslash, control, non-ASCII). It is not a parser: it
 * builds nothing and does not decode numbers. About 10 instructions a byte on token-dense
 * objects, fewer on long strings.
 *
 * json_reemit runs only over text that json_check accepted, so its own loop assumes validity:
 * outside strings it drops whitespace and rewrites ',' and ':' with the style's separators;
 * inside strings it decodes escapes and UTF-8 to code points and writes each one as the style
 * wants it. Runs of bytes the style keeps as they are go out in one append. On any failure the
 * output buffer is cut back to the length it had on entry.
 */
#include "json.h"

#include <spoor/error.h>

#include <stdint.h>
#include <string.h>

/* ---- byte classes and UTF-8 ------------------------------------------------------------ */

enum { B_PLAIN = 0, B_QUOTE, B_BSLASH, B_CTRL, B_HIGH };

/* Class of a byte inside a string; B_PLAIN for printable ASCII (0x20..0x7F bar '"' and '\'). */
#define C4(x) x, x, x, x
#define C16(x) C4(x), C4(x), C4(x), C4(x)
static const unsigned char str_class[256] = {
    C16(B_CTRL), C16(B_CTRL), ['"'] = B_QUOTE, ['\\'] = B_BSLASH, [0x80] = C16(B_HIGH), C16(B_HIGH),
    C16(B_HIGH), C16(B_HIGH), C16(B_HIGH),     C16(B_HIGH),       C16(B_HIGH),          C16(B_HIGH),
};

static inline bool is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there are not one:
 * overlong forms, UTF-16 surrogates, code points past U+10FFFF, bare continuation bytes and
 * truncated sequences are all 0. */
static inline size_t utf8_len(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return left >= 2 && is_cont(p[1]) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return left >= 3 && p[1] >= lo && p[1] <= hi && is_cont(p[2]) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return left >= 4 && p[1] >= lo && p[1] <= hi && is_cont(p[2]) && is_cont(p[3]) ? 4 : 0;
    }
    return 0;
}

/* The code point of a valid sequence of length n at p. */
static uint32_t utf8_decode(const unsigned char *p, size_t n)
{
    switch (n) {
    case 1:
        return p[0];
    case 2:
        return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    case 3:
        return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    default:
        return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
               (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
    }
}

bool json_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_len(p, (size_t)(end - p));
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* Four hex digits at p (the caller made sure they are in bounds), or -1. */
static inline int32_t hex4(const unsigned char *p)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* ---- checking -------------------------------------------------------------------------- */

/* The checker's pieces are written as small functions but compiled into one loop: HOT ones are
 * always inlined (a call per token costs more than the token), COLD ones (failures, escapes,
 * multi-byte UTF-8) stay out of the way. */
#define HOT static inline __attribute__((always_inline))
#define COLD static __attribute__((noinline, cold))
#define OUTLINE static __attribute__((noinline))

struct ck {
    const unsigned char *end;
    const unsigned char *err; /* where the problem is */
    const char *why;
};

COLD const unsigned char *fail(struct ck *c, const unsigned char *at, const char *why)
{
    c->err = at;
    c->why = why;
    return NULL;
}

HOT const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    if (p != end && *p > ' ')
        return p;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* p at a backslash inside a string; returns the byte after the escape. A \u high surrogate
 * must be followed at once by a \u low surrogate; a low one on its own is refused. */
OUTLINE const unsigned char *check_escape(struct ck *c, const unsigned char *p)
{
    size_t left = (size_t)(c->end - p);
    if (left < 2)
        return fail(c, p, "unterminated string");
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return p + 2;
    case 'u':
        break;
    default:
        return fail(c, p, "invalid escape");
    }
    int32_t u = left >= 6 ? hex4(p + 2) : -1;
    if (u < 0)
        return fail(c, p, "invalid \\u escape");
    if (u < 0xD800 || u > 0xDFFF)
        return p + 6;
    if (u <= 0xDBFF && left >= 12 && p[6] == '\\' && p[7] == 'u') {
        int32_t lo = hex4(p + 8);
        if (lo >= 0xDC00 && lo <= 0xDFFF)
            return p + 12;
    }
    return fail(c, p, "lone surrogate in \\u escape");
}

/* p at a byte of 0x80 or more inside a string: the byte after its UTF-8 sequence. */
OUTLINE const unsigned char *check_utf8(struct ck *c, const unsigned char *p)
{
    size_t n = utf8_len(p, (size_t)(c->end - p));
    return n ? p + n : fail(c, p, "invalid UTF-8");
}

/* Skips printable ASCII other than '"' and '\\'. Eight bytes at a time: in a word's mask a
 * byte's top bit is set when the byte is a control, '"', '\\' or 0x80 and up (x - 0x20, q - 1
 * and b - 1 go negative, or x has its top bit). Borrows can set bits only above a byte that is
 * really marked, so on a little-endian machine the lowest mark is the first byte to look at. */
HOT const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        uint64_t m = ((x - ones * 0x20) | (q - ones) | (b - ones) | x) & high;
        if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(m) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && str_class[*p] == B_PLAIN)
        p++;
    return p;
}

/* p just after an opening quote; returns the byte after the closing quote. */
HOT const unsigned char *check_string(struct ck *c, const unsigned char *p)
{
    const unsigned char *end = c->end;
    for (;;) {
        p = skip_plain(p, end);
        if (p < end && *p == '"')
            return p + 1;
        if (p >= end)
            return fail(c, p, "unterminated string");
        switch (str_class[*p]) { /* not plain, not '"' */
        case B_BSLASH:
            p = check_escape(c, p);
            break;
        case B_CTRL:
            return fail(c, p, "control character in string");
        default:
            p = check_utf8(c, p);
        }
        if (!p)
            return NULL;
    }
}

HOT bool is_digit(const unsigned char *p, const unsigned char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* RFC 8259 number: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
HOT const unsigned char *check_number(struct ck *c, const unsigned char *p)
{
    const unsigned char *end = c->end;
    if (*p == '-')
        p++;
    if (!is_digit(p, end))
        return fail(c, p, "expected a digit");
    if (*p++ != '0')
        while (is_digit(p, end))
            p++;
    if (p < end && *p == '.') {
        if (!is_digit(++p, end))
            return fail(c, p, "expected a digit after '.'");
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return fail(c, p, "expected a digit in the exponent");
        while (is_digit(p, end))
            p++;
    }
    return p;
}

HOT const unsigned char *check_literal(struct ck *c, const unsigned char *p, const char *word,
                                       size_t n)
{
    if ((size_t)(c->end - p) < n || memcmp(p, word, n) != 0)
        return fail(c, p, "invalid literal");
    return p + n;
}

/* A number or literal at p (not at end). */
HOT const unsigned char *check_scalar(struct ck *c, const unsigned char *p)
{
    switch (*p) {
    case 't':
        return check_literal(c, p, "true", 4);
    case 'f':
        return check_literal(c, p, "false", 5);
    case 'n':
        return check_literal(c, p, "null", 4);
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9'))
            return check_number(c, p);
        return fail(c, p, "expected a value");
    }
}

/* p where an object member is due: a string key, ':', and whitespace up to the value. */
HOT const unsigned char *check_key(struct ck *c, const unsigned char *p)
{
    p = skip_ws(p, c->end);
    if (p >= c->end || *p != '"')
        return fail(c, p, "expected a string key");
    p = check_string(c, p + 1);
    if (!p)
        return NULL;
    p = skip_ws(p, c->end);
    if (p >= c->end || *p != ':')
        return fail(c, p, "expected ':'");
    return p + 1;
}

/* The first byte of the top-level value must suit kind. */
static const char *top_kind_problem(unsigned char first, enum json_kind kind)
{
    switch (kind) {
    case JSON_KIND_OBJECT:
    case JSON_KIND_STRING_MAP:
        return first == '{' ? NULL : "expected an object";
    case JSON_KIND_OBJECT_OR_NULL:
        return first == '{' || first == 'n' ? NULL : "expected an object or null";
    case JSON_KIND_STRING_ARRAY:
        return first == '[' ? NULL : "expected an array";
    default:
        return NULL;
    }
}

/* The loop of json_check. Its labels are the two positions of the grammar, "a value is due"
 * (value) and "a value just ended" (after), plus "a member name is due" (key); gotos between
 * them keep the state in the program counter instead of a variable tested per token. in_obj
 * caches the top bit of the stack, read back only when a container closes. */
static const unsigned char *check_text(struct ck *c, const unsigned char *p, enum json_kind kind)
{
    const unsigned char *end = c->end;
    uint64_t st[(JSON_MAX_DEPTH + 63) / 64] = {0};
    unsigned depth = 0;
    bool in_obj = false,
         strings_only = kind == JSON_KIND_STRING_MAP || kind == JSON_KIND_STRING_ARRAY;
    p = skip_ws(p, end);
    const char *why = p < end ? top_kind_problem(*p, kind) : "expected a value";
    if (why)
        return fail(c, p, why);
value:
    p = skip_ws(p, end);
    if (p >= end)
        return fail(c, p, "expected a value");
    if (*p == '"') {
        if (!(p = check_string(c, p + 1)))
            return NULL;
        goto after;
    }
    if (depth == 1 && strings_only)
        return fail(c, p, "expected a string value");
    if (*p != '{' && *p != '[') {
        if (!(p = check_scalar(c, p)))
            return NULL;
        goto after;
    }
    if (depth == JSON_MAX_DEPTH)
        return fail(c, p, "nesting deeper than 128");
    in_obj = *p == '{';
    uint64_t bit = (uint64_t)1 << (depth & 63);
    st[depth >> 6] = in_obj ? st[depth >> 6] | bit : st[depth >> 6] & ~bit;
    depth++;
    p = skip_ws(p + 1, end);
    if (p < end && *p == (in_obj ? '}' : ']'))
        goto close;
    if (!in_obj)
        goto value;
key:
    if (!(p = check_key(c, p)))
        return NULL;
    goto value;
after:
    p = skip_ws(p, end);
    if (depth == 0)
        return p == end ? p : fail(c, p, "unexpected data after the value");
    if (p < end && *p == ',') {
        p++;
        if (in_obj)
            goto key;
        goto value;
    }
    if (p >= end || *p != (in_obj ? '}' : ']'))
        return fail(c, p, in_obj ? "expected ',' or '}'" : "expected ',' or ']'");
close:
    p++;
    depth--;
    in_obj = depth && (st[(depth - 1) >> 6] >> ((depth - 1) & 63) & 1);
    goto after;
}

int json_check(const char *text, size_t len, enum json_kind kind, size_t *where, const char **why)
{
    if (!text) { /* NULL is the empty text, so that base + len stays defined */
        text = "";
        len = 0;
    }
    const unsigned char *base = (const unsigned char *)text;
    struct ck c = {.end = base + len, .err = base, .why = NULL};
    if (check_text(&c, base, kind))
        return 0;
    if (where)
        *where = (size_t)(c.err - base);
    if (why)
        *why = c.why;
    return SPOOR_E_INVALID;
}

/* ---- emitting -------------------------------------------------------------------------- */

struct em {
    struct buf *out;
    enum json_style style;
    int rc; /* sticky: the first append failure */
};

static void put(struct em *e, const void *s, size_t n)
{
    if (!e->rc && n)
        e->rc = buf_append(e->out, s, n);
}

/* \uxxxx with lower-case hex, as serde_json and Python write it. */
static void put_u(struct em *e, uint32_t u)
{
    static const char hex[] = "0123456789abcdef";
    char b[6] = {'\\', 'u', hex[u >> 12 & 15], hex[u >> 8 & 15], hex[u >> 4 & 15], hex[u & 15]};
    put(e, b, sizeof b);
}

static size_t utf8_encode(uint32_t cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (char)(0xF0 | cp >> 18);
    b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One code point that the style does not keep as it is (see keeps()). */
static void put_cp(struct em *e, uint32_t cp)
{
    static const char short_esc[][3] = {
        ['"'] = "\\\"", ['\\'] = "\\\\", ['\b'] = "\\b", ['\f'] = "\\f",
        ['\n'] = "\\n", ['\r'] = "\\r",  ['\t'] = "\\t"};
    if (cp < sizeof short_esc / sizeof short_esc[0] && short_esc[cp][0]) {
        put(e, short_esc[cp], 2);
    } else if (cp < 0x20 || (e->style == JSON_STYLE_PYTHON && cp >= 0x7F)) {
        if (cp > 0xFFFF) {
            put_u(e, 0xD800 | (cp - 0x10000) >> 10);
            put_u(e, 0xDC00 | (cp & 0x3FF));
        } else {
            put_u(e, cp);
        }
    } else {
        char b[4];
        put(e, b, utf8_encode(cp, b));
    }
}

/* Whether the style writes byte c of a string as it is: compact keeps everything but '"', '\'
 * and C0 controls (UTF-8 goes out raw); Python keeps printable ASCII only (' '..'~'), since
 * ensure_ascii escapes DEL as well. */
static inline bool keeps(unsigned char c, enum json_style style)
{
    unsigned k = str_class[c];
    if (style == JSON_STYLE_COMPACT)
        return k == B_PLAIN || k == B_HIGH;
    return k == B_PLAIN && c != 0x7F;
}

/* p at a backslash of a valid escape: its code point into *cp, and the byte after it. */
static const unsigned char *decode_escape(const unsigned char *p, uint32_t *cp)
{
    static const unsigned char simple[128] = {
        ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
        ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t'};
    if (p[1] != 'u') {
        *cp = simple[p[1] & 0x7F];
        return p + 2;
    }
    uint32_t u = (uint32_t)hex4(p + 2);
    if (u < 0xD800 || u > 0xDBFF) {
        *cp = u;
        return p + 6;
    }
    *cp = 0x10000 + ((u - 0xD800) << 10) + ((uint32_t)hex4(p + 8) - 0xDC00);
    return p + 12;
}

size_t json_string_decode(const char *lit, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)lit, *end = p + len;
    char *w = out;
    while (p < end) {
        if (*p != '\\') {
            *w++ = (char)*p++;
            continue;
        }
        uint32_t cp;
        p = decode_escape(p, &cp);
        w += utf8_encode(cp, w);
    }
    *w = '\0';
    return (size_t)(w - out);
}

/* Writes the body of a string, p..end, in e's style. With json, the bytes are the inside of a
 * valid JSON string literal: escapes are decoded and the walk stops at the closing quote
 * (returned). Without, they are raw valid UTF-8 and every byte is content. */
static const unsigned char *put_body(struct em *e, const unsigned char *p, const unsigned char *end,
                                     bool json)
{
    while (p < end && !e->rc) {
        const unsigned char *run = p;
        while (p < end && keeps(*p, e->style))
            p++;
        put(e, run, (size_t)(p - run));
        if (p >= end || (json && *p == '"'))
            break;
        uint32_t cp;
        if (json && *p == '\\') {
            p = decode_escape(p, &cp);
        } else {
            size_t n = utf8_len(p, (size_t)(end - p));
            cp = utf8_decode(p, n);
            p += n;
        }
        put_cp(e, cp);
    }
    return p;
}

/* Re-emits a text json_check accepted. */
static void put_text(struct em *e, const unsigned char *p, const unsigned char *end)
{
    bool py = e->style == JSON_STYLE_PYTHON;
    while (p < end && !e->rc) {
        const unsigned char *run = p;
        switch (*p) {
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            p++;
            break;
        case ',':
            put(e, ", ", py ? 2 : 1);
            p++;
            break;
        case ':':
            put(e, ": ", py ? 2 : 1);
            p++;
            break;
        case '"':
            put(e, "\"", 1);
            p = put_body(e, p + 1, end, true);
            if (e->rc)
                return;
            put(e, "\"", 1);
            p++;
            break;
        default: /* brackets, numbers and literals, copied as written */
            while (p < end && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ',' &&
                   *p != ':' && *p != '"')
                p++;
            put(e, run, (size_t)(p - run));
        }
    }
}

/* On an error, cuts out back to its length at start. */
static int finish(struct buf *out, size_t start, int rc)
{
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

int json_reemit(const char *text, size_t len, enum json_style style, struct buf *out)
{
    if (json_check(text, len, JSON_KIND_ANY, NULL, NULL))
        return SPOOR_E_INVALID;
    struct em e = {.out = out, .style = style, .rc = 0};
    size_t start = out->len;
    const unsigned char *p = (const unsigned char *)text;
    put_text(&e, p, p + len);
    return finish(out, start, e.rc);
}

int json_put_string(struct buf *out, const char *s, size_t len, enum json_style style)
{
    if (!s) {
        s = "";
        len = 0;
    }
    if (!json_utf8_valid(s, len))
        return SPOOR_E_INVALID;
    struct em e = {.out = out, .style = style, .rc = 0};
    size_t start = out->len;
    const unsigned char *p = (const unsigned char *)s;
    put(&e, "\"", 1);
    put_body(&e, p, p + len, false);
    put(&e, "\"", 1);
    return finish(out, start, e.rc);
}
