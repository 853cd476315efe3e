/*
 * keys.c: parse and classify the object keys Burr's S3 client writes (see keys.h for the rules).
 *
 * It is a pure function over bytes: no allocation, no clock, no locale (numbers are parsed by
 * hand, so a decimal comma locale cannot change the fraction). It is deliberately strict about
 * the shape Burr produces and lenient only where Burr itself varies (fraction dropped when the
 * microsecond is 0, "+00:00" in newer versions). It does not copy Burr's misclassification of
 * metadata.json as a log file, nor its unchecked project names.
 *
 * Invariant: on success every view in struct key_parts points inside the caller's key.
 */
#include "keys.h"

#include <stdbool.h>
#include <string.h>

#include <spoor/error.h>

#include "json.h"

#define NSEG 10

struct seg {
    const char *p;
    size_t n;
};

static int fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return SPOOR_E_INVALID;
}

static bool seg_is(struct seg s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* Valid UTF-8 (json.h's rules: no overlong forms, surrogates or code points past U+10FFFF)
 * without NUL. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    return !memchr(s, '\0', n) && json_utf8_valid((const char *)s, n);
}

bool key_id_valid(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

static bool id_valid(struct seg s)
{
    return key_id_valid(s.p, s.n);
}

bool key_partition_valid(const char *s, size_t n)
{
    return n > 0 && !memchr(s, '/', n) && utf8_valid((const unsigned char *)s, n);
}

/* Exactly n ASCII digits at p, as a number in [lo, hi]; -1 otherwise. */
static int digits(const char *p, size_t n, int lo, int hi)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

static int month_days(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static int parse_date(const struct seg *sg, struct key_parts *out, const char **why)
{
    if (sg[2].n != 4 || (out->year = digits(sg[2].p, 4, 0, 9999)) < 0)
        return fail(why, "bad year");
    if (sg[3].n != 2 || (out->month = digits(sg[3].p, 2, 1, 12)) < 0)
        return fail(why, "bad month");
    if (sg[4].n != 2 || (out->day = digits(sg[4].p, 2, 1, 31)) < 0 ||
        out->day > month_days(out->year, out->month))
        return fail(why, "bad day");
    if (sg[5].n != 2 || (out->hour = digits(sg[5].p, 2, 0, 23)) < 0)
        return fail(why, "bad hour");
    return 0;
}

/* MM:SS[.f{1,6}][+00:00] */
static int parse_minute(struct seg s, struct key_parts *out, const char **why)
{
    static const char tz[] = "+00:00";
    size_t tzn = sizeof tz - 1;
    if (s.n >= tzn && memcmp(s.p + s.n - tzn, tz, tzn) == 0)
        s.n -= tzn;
    if (s.n < 5 || s.p[2] != ':')
        return fail(why, "bad minute segment");
    if ((out->minute = digits(s.p, 2, 0, 59)) < 0)
        return fail(why, "bad minute");
    int sec = digits(s.p + 3, 2, 0, 59);
    if (sec < 0)
        return fail(why, "bad second");
    out->second = sec;
    if (s.n == 5)
        return 0;
    size_t nfrac = s.n - 6;
    if (s.p[5] != '.' || nfrac < 1 || nfrac > 6)
        return fail(why, "bad second fraction");
    int frac = digits(s.p + 6, nfrac, 0, 999999);
    if (frac < 0)
        return fail(why, "bad second fraction");
    double scale = 1;
    for (size_t i = 0; i < nfrac; i++)
        scale *= 10;
    out->second += frac / scale;
    return 0;
}

static int classify(struct seg s, enum key_file *type, const char **why)
{
    static const char log_suffix[] = "__log.jsonl";
    size_t ln = sizeof log_suffix - 1;
    if (seg_is(s, "graph.json"))
        *type = KEY_FILE_GRAPH;
    else if (seg_is(s, "metadata.json"))
        *type = KEY_FILE_METADATA;
    else if (seg_is(s, "children.jsonl"))
        *type = KEY_FILE_CHILDREN;
    else if (s.n > ln && memcmp(s.p + s.n - ln, log_suffix, ln) == 0)
        *type = KEY_FILE_LOG;
    else
        return fail(why, "unknown file name");
    return 0;
}

/* Splits into exactly NSEG segments; false if there are more or fewer. */
static bool split(const char *key, size_t len, struct seg *sg)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && key[i] != '/')
            continue;
        if (n == NSEG)
            return false;
        sg[n].p = key + start;
        sg[n].n = i - start;
        n++;
        start = i + 1;
    }
    return n == NSEG;
}

int key_parse(const char *key, size_t len, struct key_parts *out, const char **why)
{
    struct seg sg[NSEG];
    int rc;
    if (!key || !utf8_valid((const unsigned char *)key, len))
        return fail(why, "invalid UTF-8 or NUL byte");
    if (!split(key, len, sg))
        return fail(why, "wrong number of segments");
    if (!seg_is(sg[0], "data"))
        return fail(why, "first segment is not \"data\"");
    if (sg[1].n == 0)
        return fail(why, "empty project");
    if (!id_valid(sg[1]))
        return fail(why, "bad project name");
    if ((rc = parse_date(sg, out, why)) != 0 || (rc = parse_minute(sg[6], out, why)) != 0)
        return rc;
    if (sg[7].n == 0)
        return fail(why, "empty partition key");
    if (sg[8].n == 0)
        return fail(why, "empty app id");
    if (!id_valid(sg[8]))
        return fail(why, "bad app id");
    if ((rc = classify(sg[9], &out->type, why)) != 0)
        return rc;
    out->project = sg[1].p;
    out->project_len = sg[1].n;
    bool none = seg_is(sg[7], "__none__");
    out->partition_key = none ? NULL : sg[7].p;
    out->partition_key_len = none ? 0 : sg[7].n;
    out->app_id = sg[8].p;
    out->app_id_len = sg[8].n;
    out->filename = sg[9].p;
    out->filename_len = sg[9].n;
    return 0;
}
