/*
 * event.c: Burr's tracking lines, metadata, pointers and object keys, byte for byte. See event.h
 * and ../shared/spec/burr-compat.md sections 1 and 2.
 *
 * Everything here is a function of its arguments (and of the process's time zone, for the naive
 * local times Burr writes into entries and spans): no clock, no randomness, no I/O. Objects are
 * written through a small sticky-error writer (struct w) that knows the style's separators, so
 * that each model reads as its field list; the first failure stops further output and the
 * buffer is cut back to its length on entry, so a caller never sees half a line.
 *
 * Time stamps follow pydantic v2 and Python's isoformat(): six fractional digits, dropped
 * entirely when the microsecond is 0; nanoseconds are floored to microseconds.
 */
#include "event.h"

#include <spoor/error.h>

#include <inttypes.h>
#include <string.h>
#include <time.h>

/* ---- times ----------------------------------------------------------------------------- */

static char *put_digits(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Python's isoformat() of a naive datetime, YYYY-MM-DDTHH:MM:SS[.ffffff], at the UTC or local
 * wall-clock time of ns. Returns the length written (at most 26, plus the NUL). */
static size_t iso_time(int64_t ns, bool utc, char out[40])
{
    int64_t sec = ns / 1000000000, rem = ns % 1000000000;
    if (rem < 0) { /* floor, so that the fraction is never negative */
        rem += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (utc)
        gmtime_r(&t, &tm);
    else
        localtime_r(&t, &tm);
    char *p = put_digits(out, (unsigned)(tm.tm_year + 1900), 4);
    *p++ = '-';
    p = put_digits(p, (unsigned)tm.tm_mon + 1, 2);
    *p++ = '-';
    p = put_digits(p, (unsigned)tm.tm_mday, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned)tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_sec, 2);
    unsigned us = (unsigned)(rem / 1000);
    if (us) {
        *p++ = '.';
        p = put_digits(p, us, 6);
    }
    *p = '\0';
    return (size_t)(p - out);
}

void ev_time_local(int64_t ns, char out[40])
{
    iso_time(ns, false, out);
}

void ev_time_utc(int64_t ns, char out[40])
{
    size_t n = iso_time(ns, true, out);
    out[n] = 'Z';
    out[n + 1] = '\0';
}

/* ---- a small JSON object writer -------------------------------------------------------- */

struct w {
    struct buf *out;
    enum json_style style;
    bool first; /* no member written yet in the innermost open object */
    int rc;     /* sticky: the first failure */
};

static void w_raw(struct w *w, const char *s, size_t n)
{
    if (!w->rc)
        w->rc = buf_append(w->out, s, n);
}

static void w_lit(struct w *w, const char *s)
{
    w_raw(w, s, strlen(s));
}

static void w_fail(struct w *w, int rc)
{
    if (!w->rc)
        w->rc = rc;
}

static void w_open(struct w *w)
{
    w_lit(w, "{");
    w->first = true;
}

static void w_close(struct w *w)
{
    w_lit(w, "}");
    w->first = false;
}

/* The separator before a member (unless first), the quoted name and the colon. */
static void w_key(struct w *w, const char *name)
{
    bool py = w->style == JSON_STYLE_PYTHON;
    if (!w->first)
        w_raw(w, ", ", py ? 2 : 1);
    w->first = false;
    w_lit(w, "\"");
    w_lit(w, name);
    w_raw(w, "\": ", py ? 3 : 2);
}

/* A string; NULL is null when nullable, SPOOR_E_INVALID when not. */
static void w_str(struct w *w, const char *s, bool nullable)
{
    if (!s) {
        if (nullable)
            w_lit(w, "null");
        else
            w_fail(w, SPOOR_E_INVALID);
    } else if (!w->rc) {
        w->rc = json_put_string(w->out, s, strlen(s), w->style);
    }
}

static void w_int(struct w *w, int64_t v)
{
    if (!w->rc)
        w->rc = buf_printf(w->out, "%" PRId64, v);
}

static void w_int_or_null(struct w *w, int64_t v, bool present)
{
    if (present)
        w_int(w, v);
    else
        w_lit(w, "null");
}

static void w_time(struct w *w, int64_t ns, bool utc)
{
    char t[40];
    if (utc)
        ev_time_utc(ns, t);
    else
        ev_time_local(ns, t);
    w_lit(w, "\"");
    w_lit(w, t);
    w_lit(w, "\"");
}

/* A payload of kind, re-emitted in the writer's style; NULL is SPOOR_E_INVALID. */
static void w_json(struct w *w, const char *text, enum json_kind kind)
{
    if (w->rc)
        return;
    size_t n = text ? strlen(text) : 0;
    if (!text || json_check(text, n, kind, NULL, NULL))
        w->rc = SPOOR_E_INVALID;
    else
        w->rc = json_reemit(text, n, w->style, w->out);
}

static void w_pointer(struct w *w, const struct ev_pointer *p)
{
    if (!p) {
        w_lit(w, "null");
        return;
    }
    w_open(w);
    w_key(w, "type");
    w_lit(w, "\"pointer_data\"");
    w_key(w, "app_id");
    w_str(w, p->app_id, false);
    w_key(w, "sequence_id");
    w_int_or_null(w, p->sequence_id, p->has_sequence_id);
    w_key(w, "partition_key");
    w_str(w, p->partition_key, true);
    w_close(w);
}

/* Ends a write: on failure the buffer goes back to its length at start. */
static int w_finish(struct w *w, size_t start)
{
    if (w->rc) {
        w->out->len = start;
        if (w->out->data)
            w->out->data[start] = '\0';
    }
    return w->rc;
}

/* ---- log lines ------------------------------------------------------------------------- */

static void begin_entry(struct w *w, const struct ev *e)
{
    w_key(w, "start_time");
    w_time(w, e->time_ns, false);
    w_key(w, "action");
    w_str(w, e->action, false);
    w_key(w, "inputs");
    w_json(w, e->inputs, JSON_KIND_OBJECT);
    w_key(w, "sequence_id");
    w_int(w, e->sequence_id);
}

static void end_entry(struct w *w, const struct ev *e)
{
    w_key(w, "end_time");
    w_time(w, e->time_ns, false);
    w_key(w, "action");
    w_str(w, e->action, false);
    w_key(w, "result");
    if (e->result)
        w_json(w, e->result, JSON_KIND_OBJECT_OR_NULL);
    else
        w_lit(w, "null");
    w_key(w, "exception");
    w_str(w, e->exception, true);
    w_key(w, "state");
    w_json(w, e->state, JSON_KIND_OBJECT);
    w_key(w, "sequence_id");
    w_int(w, e->sequence_id);
}

static void begin_span(struct w *w, const struct ev *e)
{
    w_key(w, "start_time");
    w_time(w, e->time_ns, false);
    w_key(w, "action_sequence_id");
    w_int(w, e->sequence_id);
    w_key(w, "span_id");
    w_str(w, e->span_id, false);
    w_key(w, "span_name");
    w_str(w, e->span_name, false);
    w_key(w, "parent_span_id");
    w_str(w, e->parent_span_id, true);
    w_key(w, "span_dependencies");
    if (e->ndeps && !e->deps)
        w_fail(w, SPOOR_E_INVALID);
    w_lit(w, "[");
    const char *d = e->deps;
    for (size_t i = 0; i < e->ndeps && !w->rc; i++) {
        if (i)
            w_lit(w, ",");
        w_str(w, d, false);
        d += strlen(d) + 1;
    }
    w_lit(w, "]");
}

static void end_span(struct w *w, const struct ev *e)
{
    w_key(w, "end_time");
    w_time(w, e->time_ns, false);
    w_key(w, "action_sequence_id");
    w_int(w, e->sequence_id);
    w_key(w, "span_id");
    w_str(w, e->span_id, false);
}

static void attribute(struct w *w, const struct ev *e)
{
    w_key(w, "key");
    w_str(w, e->key, false);
    w_key(w, "action_sequence_id");
    w_int(w, e->sequence_id);
    w_key(w, "span_id");
    w_str(w, e->span_id, true);
    w_key(w, "value");
    w_json(w, e->value, JSON_KIND_ANY);
    w_key(w, "tags");
    if (e->tags)
        w_json(w, e->tags, JSON_KIND_STRING_MAP);
    else
        w_lit(w, "{}");
    w_key(w, "time_logged");
    w_time(w, e->time_ns, true);
}

/* The three stream events share their head: action_sequence_id, span_id, then a UTC time. */
static void stream_event(struct w *w, const struct ev *e)
{
    static const char *const time_field[] = {
        [EV_BEGIN_STREAM] = "stream_init_time",
        [EV_FIRST_ITEM_STREAM] = "first_item_time",
        [EV_END_STREAM] = "end_time",
    };
    w_key(w, "action_sequence_id");
    w_int(w, e->sequence_id);
    w_key(w, "span_id");
    w_str(w, e->span_id, true);
    w_key(w, time_field[e->type]);
    w_time(w, e->time_ns, true);
    if (e->type == EV_END_STREAM) {
        w_key(w, "items_streamed");
        w_int(w, e->items_streamed);
    }
}

static const struct {
    const char *name;
    void (*fields)(struct w *w, const struct ev *e);
} ev_types[] = {
    [EV_BEGIN_ENTRY] = {"begin_entry", begin_entry},
    [EV_END_ENTRY] = {"end_entry", end_entry},
    [EV_BEGIN_SPAN] = {"begin_span", begin_span},
    [EV_END_SPAN] = {"end_span", end_span},
    [EV_ATTRIBUTE] = {"attribute", attribute},
    [EV_BEGIN_STREAM] = {"begin_stream", stream_event},
    [EV_FIRST_ITEM_STREAM] = {"first_item_stream", stream_event},
    [EV_END_STREAM] = {"end_stream", stream_event},
};

int ev_line(const struct ev *e, struct buf *out)
{
    if ((unsigned)e->type >= sizeof ev_types / sizeof ev_types[0])
        return SPOOR_E_INVALID;
    struct w w = {.out = out, .style = JSON_STYLE_COMPACT, .first = true, .rc = 0};
    size_t start = out->len;
    w_open(&w);
    w_key(&w, "type");
    w_str(&w, ev_types[e->type].name, false);
    ev_types[e->type].fields(&w, e);
    w_close(&w);
    return w_finish(&w, start);
}

/* ---- graph-side objects ---------------------------------------------------------------- */

int ev_metadata_json(struct buf *out, const char *partition_key, const struct ev_pointer *parent,
                     const struct ev_pointer *spawning, enum json_style style)
{
    struct w w = {.out = out, .style = style, .first = true, .rc = 0};
    size_t start = out->len;
    w_open(&w);
    w_key(&w, "type");
    w_lit(&w, "\"application_metadata\"");
    w_key(&w, "partition_key");
    w_str(&w, partition_key, true);
    w_key(&w, "parent_pointer");
    w_pointer(&w, parent);
    w_key(&w, "spawning_parent_pointer");
    w_pointer(&w, spawning);
    w_close(&w);
    return w_finish(&w, start);
}

int ev_pointer_header(struct buf *out, const struct ev_pointer *p)
{
    if (!p)
        return buf_append_str(out, "None");
    /* json.dumps(dataclasses.asdict(pointer)): the dataclass's field order, default
     * separators, ensure_ascii; no "type" member, unlike PointerModel. */
    struct w w = {.out = out, .style = JSON_STYLE_PYTHON, .first = true, .rc = 0};
    size_t start = out->len;
    w_open(&w);
    w_key(&w, "app_id");
    w_str(&w, p->app_id, false);
    w_key(&w, "partition_key");
    w_str(&w, p->partition_key, true);
    w_key(&w, "sequence_id");
    w_int_or_null(&w, p->sequence_id, p->has_sequence_id);
    w_close(&w);
    return w_finish(&w, start);
}

int ev_child_line(struct buf *out, const char *child_app_id, int64_t ns, const char *event_type,
                  const struct ev_pointer *parent)
{
    if (!event_type || (strcmp(event_type, "fork") != 0 && strcmp(event_type, "spawn_start") != 0))
        return SPOOR_E_INVALID;
    struct ev_pointer child = {.app_id = child_app_id};
    struct w w = {.out = out, .style = JSON_STYLE_COMPACT, .first = true, .rc = 0};
    size_t start = out->len;
    w_open(&w);
    w_key(&w, "type");
    w_lit(&w, "\"child_application_data\"");
    w_key(&w, "child");
    w_pointer(&w, &child);
    w_key(&w, "event_time");
    w_time(&w, ns, false);
    w_key(&w, "event_type");
    w_str(&w, event_type, false);
    w_key(&w, "sequence_id");
    w_int_or_null(&w, parent ? parent->sequence_id : 0, parent && parent->has_sequence_id);
    w_close(&w);
    return w_finish(&w, start);
}

/* ---- keys and names -------------------------------------------------------------------- */

/* A key segment that keeps the ten-part layout: non-empty UTF-8 without '/', not "." or "..". */
static bool segment_ok(const char *s)
{
    return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
           json_utf8_valid(s, strlen(s));
}

int ev_object_key(struct buf *out, const char *project, int64_t ns, const char *partition_key,
                  const char *app_id, const char *filename)
{
    const char *pk = partition_key && *partition_key ? partition_key : "__none__";
    if (!segment_ok(project) || !segment_ok(app_id) || !segment_ok(filename) ||
        (pk == partition_key && !ev_partition_key_valid(pk)))
        return SPOOR_E_INVALID;
    char t[40]; /* YYYY-MM-DDTHH:MM:SS[.ffffff], sliced as Burr slices utcnow().isoformat() */
    iso_time(ns, true, t);
    return buf_printf(out, "data/%s/%.4s/%.2s/%.2s/%.2s/%s/%s/%s/%s", project, t, t + 5, t + 8,
                      t + 11, t + 14, pk, app_id, filename);
}

void ev_uuid4(const unsigned char random16[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    memcpy(b, random16, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* variant 10xx (RFC 4122) */
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

void ev_log_filename(const unsigned char random16[16], char out[64])
{
    ev_uuid4(random16, out);
    memcpy(out + 36, "__log.jsonl", sizeof "__log.jsonl");
}

bool ev_id_valid(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == ':'))
            return false;
    }
    return true;
}

bool ev_partition_key_valid(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n == 0 || n > 256 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || !json_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == '/')
            return false;
        /* C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8 */
        if (c == 0xC2 && (unsigned char)s[i + 1] <= 0x9F)
            return false;
    }
    return true;
}
