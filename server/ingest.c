/*
 * ingest.c: object bodies to index rows (see ingest.h). Log objects are split into lines, each
 * line checked in a fixed order (length, UTF-8, JSON object, known type, required fields) and
 * either kept as an event or counted under the first reason it failed; metadata.json gives a
 * partition key and two pointers; graph.json is only checked to be an object. Log lines, the
 * bulk of the work, are checked with the tracker's allocation-free json_check and scanned for
 * their few fields; the small metadata and graph bodies are parsed with jansson.
 *
 * It is deliberately not step assembly (section 2.4): every well-formed line is kept, orphan
 * end_span lines included, and the lines keep file order. Invariants: an event's raw is a view
 * into the caller's body; its span_id and time are its own copies; an ingest_log or
 * ingest_metadata is freeable whatever state a failing call left it in.
 */
#include "ingest.h"

#include <spoor/error.h>

#include "json.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <jansson.h>
#include <string.h>

/* How each known type names its sequence id and time fields. */
struct event_kind {
    const char *type;
    const char *seq_field;
    const char *time_field;
    bool needs_span_id;
};

static const struct event_kind kinds[] = {
    {"begin_entry", "sequence_id", "start_time", false},
    {"end_entry", "sequence_id", "end_time", false},
    {"suspend_entry", "sequence_id", "suspend_time", false},
    {"begin_span", "action_sequence_id", "start_time", true},
    {"end_span", "action_sequence_id", "end_time", true},
    {"attribute", "action_sequence_id", "time_logged", false},
    {"begin_stream", "action_sequence_id", "stream_init_time", false},
    {"first_item_stream", "action_sequence_id", "first_item_time", false},
    {"end_stream", "action_sequence_id", "end_time", false},
};

/* The outcome of one line: kept, or one of the skip reasons. */
enum line_verdict { LINE_KEPT, LINE_BAD_UTF8, LINE_BAD_JSON, LINE_UNKNOWN, LINE_MISSING };

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* Parses s[0..n) as one JSON object: 0 with *obj (new), SPOOR_E_INVALID, or -ENOMEM. */
static int load_object(const char *s, size_t n, json_t **obj)
{
    json_error_t err;
    /* JSON_ALLOW_NUL: Python's json accepts "\u0000", so a line with one is still an event. */
    json_t *j = json_loadb(s, n, JSON_ALLOW_NUL, &err);
    *obj = NULL;
    if (!j)
        return json_error_code(&err) == json_error_out_of_memory ? -ENOMEM : SPOOR_E_INVALID;
    if (!json_is_object(j)) {
        json_decref(j);
        return SPOOR_E_INVALID;
    }
    *obj = j;
    return 0;
}

/* ---- log lines: validated by json_check, then the top level scanned for the few fields the
 * index needs. No tree is built: a line costs one validating pass and one scanning pass. */

/* A member's value: [p, p + n) of the line, and its first byte says its kind. */
struct span {
    const char *p;
    size_t n;
};

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the string starting at the quote p (just past its closing quote). */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p + 1;
}

/* The end of the (valid) value starting at p. */
static const char *skip_value(const char *p, const char *end)
{
    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
               *p != '\n' && *p != '\r')
            p++;
        return p;
    }
    int depth = 0;
    do {
        if (*p == '"') {
            p = skip_string(p, end);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']')
            depth--;
        p++;
    } while (p < end && depth > 0);
    return p;
}

/* The (valid) string value at v as a new C string, escapes decoded; NULL if v is not a string. */
static char *string_dup(struct span v)
{
    if (!v.p || *v.p != '"')
        return NULL;
    char *out = xmalloc(v.n - 1);
    json_string_decode(v.p + 1, v.n - 2, out);
    return out;
}

/* Whether the string value v equals lit once decoded. */
static bool string_is(struct span v, const char *lit)
{
    size_t n = strlen(lit);
    if (!v.p || *v.p != '"')
        return false;
    if (v.n == n + 2 && memcmp(v.p + 1, lit, n) == 0)
        return true;
    if (!memchr(v.p, '\\', v.n))
        return false;
    char *d = string_dup(v);
    bool eq = strcmp(d, lit) == 0;
    free(d);
    return eq;
}

/* The integer value at v (a JSON number without fraction or exponent that fits int64). */
static bool integer_of(struct span v, int64_t *out)
{
    if (!v.p || !(*v.p == '-' || (*v.p >= '0' && *v.p <= '9')) || memchr(v.p, '.', v.n) ||
        memchr(v.p, 'e', v.n) || memchr(v.p, 'E', v.n))
        return false;
    const char *p = v.p;
    bool neg = *p == '-';
    p += neg;
    uint64_t u = 0;
    for (; p < v.p + v.n; p++) {
        if (u > (UINT64_MAX - 9) / 10)
            return false;
        u = u * 10 + (uint64_t)(*p - '0');
    }
    if (u > (uint64_t)INT64_MAX + neg)
        return false;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

/* The values of the top-level members named in names[0..n) (the last of duplicates, as
 * Python's json keeps it), of the valid object s[0..len). */
static void members(const char *s, size_t len, const char *const *names, struct span *vals,
                    size_t n)
{
    const char *p = skip_ws(s, s + len), *end = s + len;
    memset(vals, 0, n * sizeof *vals);
    p = skip_ws(p + 1, end); /* past '{' */
    while (p < end && *p == '"') {
        struct span key = {p, 0};
        p = skip_string(p, end);
        key.n = (size_t)(p - key.p);
        p = skip_ws(p, end);
        p = skip_ws(p + 1, end); /* past ':' */
        struct span val = {p, 0};
        p = skip_value(p, end);
        val.n = (size_t)(p - val.p);
        for (size_t i = 0; i < n; i++)
            if (string_is(key, names[i]))
                vals[i] = val;
        p = skip_ws(p, end);
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
    }
}

/* Classifies line s[0..n) and, when it is kept, fills ev. Returns the verdict. */
static int line_classify(const char *s, size_t n, struct ingest_event *ev)
{
    /* json_check validates UTF-8 as well: only a line it refuses needs the second look that
     * tells the two reasons apart */
    if (json_check(s, n, JSON_KIND_OBJECT, NULL, NULL) != 0)
        return json_utf8_valid(s, n) ? LINE_BAD_JSON : LINE_BAD_UTF8;
    static const char *const top[] = {"type"};
    struct span type;
    members(s, n, top, &type, 1);
    const struct event_kind *k = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !k; i++)
        if (string_is(type, kinds[i].type))
            k = &kinds[i];
    if (!k)
        return LINE_UNKNOWN;
    const char *names[3] = {k->seq_field, "span_id", k->time_field};
    struct span v[3];
    members(s, n, names, v, 3);
    int64_t seq;
    if (!integer_of(v[0], &seq))
        return LINE_MISSING;
    if (k->needs_span_id && !(v[1].p && *v[1].p == '"'))
        return LINE_MISSING;
    str_copy(ev->type, sizeof ev->type, k->type);
    ev->has_sequence_id = true;
    ev->sequence_id = seq;
    ev->span_id = string_dup(v[1]);
    ev->time = string_dup(v[2]);
    return LINE_KEPT;
}

static void count_skip(struct ingest_skips *sk, int verdict)
{
    switch (verdict) {
    case LINE_BAD_UTF8:
        sk->invalid_utf8++;
        break;
    case LINE_BAD_JSON:
        sk->bad_json++;
        break;
    case LINE_UNKNOWN:
        sk->unknown_type++;
        break;
    default:
        sk->missing_field++;
        break;
    }
}

/* Handles one line (without its '\n') of out's object; 0 or -ENOMEM. */
static int take_line(const char *s, size_t n, int line_no, size_t max_line_bytes, size_t *cap,
                     struct ingest_log *out)
{
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (n > max_line_bytes) {
        out->skipped.too_long++;
        return 0;
    }
    if (is_blank(s, n))
        return 0;
    struct ingest_event ev = {.raw = s, .raw_len = n, .line_no = line_no};
    int v = line_classify(s, n, &ev);
    if (v < 0)
        return v;
    if (v != LINE_KEPT) {
        count_skip(&out->skipped, v);
        return 0;
    }
    if (out->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        out->events = xrealloc(out->events, *cap * sizeof *out->events);
    }
    out->events[out->n++] = ev;
    return 0;
}

int ingest_parse_log(const char *body, size_t len, size_t max_line_bytes, struct ingest_log *out)
{
    size_t cap = 0, pos = 0;
    int line_no = 0, rc = 0;
    memset(out, 0, sizeof *out);
    while (pos < len) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len;
        rc = take_line(body + pos, end - pos, ++line_no, max_line_bytes, &cap, out);
        if (rc != 0)
            goto fail;
        pos = end + 1;
    }
    return 0;
fail:
    ingest_log_cleanup(out);
    return rc;
}

void ingest_log_cleanup(struct ingest_log *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->events[i].span_id);
        free(l->events[i].time);
    }
    free(l->events);
    memset(l, 0, sizeof *l);
}

/* ---- metadata.json and graph.json ---------------------------------------------------------- */

/* An optional string member: 0 with *out (new or NULL), or SPOOR_E_INVALID. */
static int opt_string(json_t *obj, const char *key, char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return SPOOR_E_INVALID;
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int pointer_parse(json_t *v, struct ingest_pointer *p, const char **why)
{
    if (!v || json_is_null(v))
        return 0;
    *why = "pointer is not an object or null";
    if (!json_is_object(v))
        return SPOOR_E_INVALID;
    json_t *type = json_object_get(v, "type");
    *why = "pointer type is not a string";
    if (type && !json_is_string(type))
        return SPOOR_E_INVALID;
    *why = "pointer app_id is not a string";
    if (!json_is_string(json_object_get(v, "app_id")))
        return SPOOR_E_INVALID;
    p->present = true;
    p->app_id = xstrdup(json_string_value(json_object_get(v, "app_id")));
    *why = "pointer partition_key is not a string or null";
    if (opt_string(v, "partition_key", &p->partition_key) != 0)
        return SPOOR_E_INVALID;
    json_t *seq = json_object_get(v, "sequence_id");
    *why = "pointer sequence_id is not an integer or null";
    if (seq && !json_is_null(seq) && !json_is_integer(seq))
        return SPOOR_E_INVALID;
    p->has_sequence_id = json_is_integer(seq);
    p->sequence_id = p->has_sequence_id ? (int64_t)json_integer_value(seq) : 0;
    *why = NULL;
    return 0;
}

int ingest_parse_metadata(const char *body, size_t len, struct ingest_metadata *out,
                          const char **why)
{
    const char *reason = NULL;
    json_t *obj = NULL;
    memset(out, 0, sizeof *out);
    int rc = load_object(body, len, &obj);
    reason = "not a JSON object";
    if (rc != 0)
        goto fail;
    rc = SPOOR_E_INVALID;
    json_t *type = json_object_get(obj, "type");
    reason = "type is not a string";
    if (type && !json_is_string(type))
        goto fail;
    reason = "partition_key is not a string or null";
    if (opt_string(obj, "partition_key", &out->partition_key) != 0)
        goto fail;
    rc = pointer_parse(json_object_get(obj, "parent_pointer"), &out->parent, &reason);
    if (rc != 0)
        goto fail;
    rc = pointer_parse(json_object_get(obj, "spawning_parent_pointer"), &out->spawning, &reason);
    if (rc != 0)
        goto fail;
    json_decref(obj);
    return 0;
fail:
    if (why)
        *why = rc == -ENOMEM ? "out of memory" : reason;
    json_decref(obj);
    ingest_metadata_cleanup(out);
    return rc;
}

static void pointer_cleanup(struct ingest_pointer *p)
{
    free(p->app_id);
    free(p->partition_key);
    memset(p, 0, sizeof *p);
}

void ingest_metadata_cleanup(struct ingest_metadata *m)
{
    free(m->partition_key);
    m->partition_key = NULL;
    pointer_cleanup(&m->parent);
    pointer_cleanup(&m->spawning);
}

int ingest_check_graph(const char *body, size_t len, size_t max_bytes, const char **why)
{
    const char *reason = "graph is larger than the limit";
    json_t *obj = NULL;
    int rc = SPOOR_E_INVALID;
    if (len > max_bytes)
        goto fail;
    rc = load_object(body, len, &obj);
    reason = rc == -ENOMEM ? "out of memory" : "not a JSON object";
    if (rc != 0)
        goto fail;
    json_decref(obj);
    return 0;
fail:
    if (why)
        *why = reason;
    return rc;
}

int ingest_parse_children(const char *body, size_t len, struct ingest_line **lines, size_t *n,
                          unsigned *skipped)
{
    *lines = NULL;
    *n = 0;
    *skipped = 0;
    size_t cap = 0;
    for (size_t start = 0; start < len;) {
        const char *nl = memchr(body + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - body) : len, l = end - start;
        if (l && body[start + l - 1] == '\r')
            l--;
        json_t *j = l ? json_loadb(body + start, l, 0, NULL) : NULL;
        const char *type = json_string_value(json_object_get(j, "type"));
        bool ok = type && strcmp(type, "child_application_data") == 0 &&
                  json_is_object(json_object_get(j, "child"));
        json_decref(j);
        if (ok) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 8;
                struct ingest_line *bigger = realloc(*lines, cap * sizeof **lines);
                if (!bigger) {
                    free(*lines);
                    *lines = NULL;
                    return -ENOMEM;
                }
                *lines = bigger;
            }
            (*lines)[(*n)++] = (struct ingest_line){body + start, l};
        } else if (l) {
            (*skipped)++;
        }
        start = end + 1;
    }
    return 0;
}
