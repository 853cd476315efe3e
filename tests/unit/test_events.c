/*
 * test_events.c: Burr's tracking formats (client/tracker/event.h), data-driven from
 * tests/data/events/.
 *
 *  *.ev     one call (a log line, metadata, pointer header, children line, object key, uuid,
 *           log filename or the two time conventions) with its inputs and the exact output;
 *           the format is described in tests/data/events/README.md. Every file in the
 *           directory runs; a failure prints the file, expected and got.
 *  ids.txt  ev_id_valid / ev_partition_key_valid cases.
 *
 * Outputs are appended to a buffer that already holds a prefix, so the tests also see that
 * the functions append, and that a refusal leaves the buffer as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "support/escapes.h"
#include "support/files.h"
#include <dirent.h>

#include <spoor/error.h>

#include "buf.h"
#include "../../client/tracker/event.h"

#define DATA SPOOR_TEST_DATA "/events"
#define PREFIX "prefix|"

/* ---- files and escapes ------------------------------------------------------------ */

/* Decodes s[0..n) (support/escapes.h) into a new NUL-terminated string; NULL if malformed. */
static char *decode(const char *s, size_t n)
{
    struct buf out;
    buf_init(&out, 1 << 20);
    if (test_unescape(s, n, &out))
        return buf_take(&out, NULL);
    buf_cleanup(&out);
    return NULL;
}

/* ---- one .ev file ----------------------------------------------------------------------- */

#define MAX_FIELDS 40

struct spec {
    const char *path;
    size_t n;
    char *key[MAX_FIELDS];
    char *val[MAX_FIELDS]; /* decoded */
};

static void spec_free(struct spec *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->key[i]);
        free(s->val[i]);
    }
    s->n = 0;
}

/* Reads path into s; false (with a message) on a malformed line. */
static bool spec_load(struct spec *s, const char *path)
{
    char *text = slurp(path);
    bool ok = true;
    s->path = path;
    s->n = 0;
    for (char *p = text, *nl; ok && p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        char *colon = strchr(p, ':');
        if (!colon || s->n == MAX_FIELDS || (colon[1] != ' ' && colon[1] != '\0')) {
            print_error("%s: cannot read line \"%s\"\n", path, p);
            ok = false;
            break;
        }
        const char *v = colon[1] ? colon + 2 : colon + 1;
        s->key[s->n] = strndup(p, (size_t)(colon - p));
        s->val[s->n] = decode(v, strlen(v));
        if (!s->val[s->n]) {
            print_error("%s: bad escape in \"%s\"\n", path, p);
            ok = false;
        }
        s->n++;
    }
    free(text);
    return ok;
}

static const char *get(const struct spec *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->key[i], key) == 0)
            return s->val[i];
    return NULL;
}

static int64_t get_int(const struct spec *s, const char *key)
{
    const char *v = get(s, key);
    return v ? strtoll(v, NULL, 10) : 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" (UTC) as nanoseconds since the epoch. */
static bool parse_instant(const char *iso, int64_t *ns)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int used = 0;
    if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                       &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const char *p = iso + used;
    int64_t frac = 0, scale = 1000000000;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && scale > 1; p++) {
            scale /= 10;
            frac += (*p - '0') * scale;
        }
    }
    if (strcmp(p, "Z") != 0)
        return false;
    *ns = (int64_t)timegm(&tm) * 1000000000 + frac;
    return true;
}

static bool parse_random(const char *hex, unsigned char out[16])
{
    if (!hex || strlen(hex) != 32)
        return false;
    for (int i = 0; i < 16; i++) {
        int hi = uri_hex_value((unsigned char)hex[2 * i]),
            lo = uri_hex_value((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return true;
}

/* The pointer "<prefix>.*" of s into p; NULL when <prefix>.app_id is absent. */
static const struct ev_pointer *get_pointer(const struct spec *s, const char *prefix,
                                            struct ev_pointer *p)
{
    char k[64];
    snprintf(k, sizeof k, "%s.app_id", prefix);
    const char *app = get(s, k);
    snprintf(k, sizeof k, "%s.partition_key", prefix);
    p->partition_key = get(s, k);
    snprintf(k, sizeof k, "%s.sequence_id", prefix);
    p->has_sequence_id = get(s, k) != NULL;
    p->sequence_id = get_int(s, k);
    p->app_id = app;
    /* a pointer with fields but no app id is still passed, to see it refused */
    return app || p->has_sequence_id || p->partition_key ? p : NULL;
}

/* The keys a .ev file may use, each between spaces. */
static const char known_keys[] =
    " call tz time type sequence_id items_streamed action inputs result exception state span_id"
    " span_name parent_span_id dep key value tags partition_key style project app_id filename"
    " parent.app_id parent.partition_key parent.sequence_id spawning.app_id"
    " spawning.partition_key spawning.sequence_id child_app_id event_type random expect ";

static const char *unknown_key(const struct spec *s)
{
    for (size_t i = 0; i < s->n; i++) {
        char k[80];
        snprintf(k, sizeof k, " %s ", s->key[i]);
        if (strchr(s->key[i], ' ') || !strstr(known_keys, k))
            return s->key[i];
    }
    return NULL;
}

/* ---- the calls -------------------------------------------------------------------------- */

static const char *const type_names[] = {
    [EV_BEGIN_ENTRY] = "begin_entry",
    [EV_END_ENTRY] = "end_entry",
    [EV_BEGIN_SPAN] = "begin_span",
    [EV_END_SPAN] = "end_span",
    [EV_ATTRIBUTE] = "attribute",
    [EV_BEGIN_STREAM] = "begin_stream",
    [EV_FIRST_ITEM_STREAM] = "first_item_stream",
    [EV_END_STREAM] = "end_stream",
};

static int call_line(const struct spec *s, int64_t ns, struct buf *out)
{
    const char *t = get(s, "type");
    size_t i = 0;
    while (t && i < sizeof type_names / sizeof type_names[0] && strcmp(type_names[i], t))
        i++;
    if (!t || i == sizeof type_names / sizeof type_names[0])
        fail_msg("%s: unknown type %s", s->path, t ? t : "(none)");
    struct ev e = {
        .type = (enum ev_type)i,
        .time_ns = ns,
        .sequence_id = get_int(s, "sequence_id"),
        .action = get(s, "action"),
        .inputs = get(s, "inputs"),
        .result = get(s, "result"),
        .exception = get(s, "exception"),
        .state = get(s, "state"),
        .span_id = get(s, "span_id"),
        .span_name = get(s, "span_name"),
        .parent_span_id = get(s, "parent_span_id"),
        .key = get(s, "key"),
        .value = get(s, "value"),
        .tags = get(s, "tags"),
        .items_streamed = get_int(s, "items_streamed"),
    };
    struct buf deps; /* "dep" lines packed as NUL-terminated strings */
    buf_init(&deps, 1 << 16);
    for (size_t k = 0; k < s->n; k++) {
        if (strcmp(s->key[k], "dep") == 0) {
            buf_append(&deps, s->val[k], strlen(s->val[k]) + 1);
            e.ndeps++;
        }
    }
    e.deps = deps.data;
    int rc = ev_line(&e, out);
    buf_cleanup(&deps);
    return rc;
}

static int call_key(const struct spec *s, int64_t ns, struct buf *out)
{
    const char *filename = get(s, "filename");
    char logname[64];
    unsigned char rnd[16];
    if (!filename && parse_random(get(s, "random"), rnd)) {
        ev_log_filename(rnd, logname);
        filename = logname;
    }
    return ev_object_key(out, get(s, "project"), ns, get(s, "partition_key"), get(s, "app_id"),
                         filename);
}

static int call_fixed(const struct spec *s, const char *call, int64_t ns, struct buf *out)
{
    char a[64], b[64];
    unsigned char rnd[16];
    if (strcmp(call, "times") == 0) {
        ev_time_local(ns, a);
        ev_time_utc(ns, b);
        return buf_printf(out, "%s %s", a, b);
    }
    if (!parse_random(get(s, "random"), rnd))
        fail_msg("%s: random must be 32 hex digits", s->path);
    if (strcmp(call, "uuid") == 0)
        ev_uuid4(rnd, a);
    else
        ev_log_filename(rnd, a);
    return buf_append_str(out, a);
}

static int call_one(const struct spec *s, const char *call, int64_t ns, struct buf *out)
{
    struct ev_pointer p1, p2;
    if (strcmp(call, "line") == 0)
        return call_line(s, ns, out);
    if (strcmp(call, "key") == 0)
        return call_key(s, ns, out);
    if (strcmp(call, "metadata") == 0) {
        const char *style = get(s, "style");
        enum json_style st =
            style && strcmp(style, "python") == 0 ? JSON_STYLE_PYTHON : JSON_STYLE_COMPACT;
        return ev_metadata_json(out, get(s, "partition_key"), get_pointer(s, "parent", &p1),
                                get_pointer(s, "spawning", &p2), st);
    }
    if (strcmp(call, "pointer") == 0)
        return ev_pointer_header(out, get_pointer(s, "parent", &p1));
    if (strcmp(call, "child") == 0)
        return ev_child_line(out, get(s, "child_app_id"), ns, get(s, "event_type"),
                             get_pointer(s, "parent", &p1));
    if (strcmp(call, "times") == 0 || strcmp(call, "uuid") == 0 || strcmp(call, "logname") == 0)
        return call_fixed(s, call, ns, out);
    fail_msg("%s: unknown call %s", s->path, call);
    return -1;
}

/* Printable rendering for failure messages: bytes outside ASCII as %XX. */
static void print_bytes(const char *label, const char *s, size_t n)
{
    print_error("  %s ", label);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '%')
            print_error("%c", c);
        else
            print_error("%%%02X", c);
    }
    print_error("\n");
}

/* Runs one .ev file; true when its output matches. */
static bool run_file(const char *path)
{
    struct spec s;
    bool ok = spec_load(&s, path);
    const char *call = get(&s, "call"), *expect = get(&s, "expect"), *bad = unknown_key(&s);
    int64_t ns = 0;
    if (ok &&
        (!call || !expect || bad || (get(&s, "time") && !parse_instant(get(&s, "time"), &ns)))) {
        print_error("%s: needs call and expect, a valid time, known keys (%s)\n", path,
                    bad ? bad : "-");
        ok = false;
    }
    if (ok) {
        const char *tz = get(&s, "tz");
        setenv("TZ", tz ? tz : "UTC0", 1);
        tzset();
        struct buf out;
        buf_init(&out, 1 << 20);
        buf_append_str(&out, PREFIX);
        int rc = call_one(&s, call, ns, &out);
        size_t pl = strlen(PREFIX);
        if (strcmp(expect, "!invalid") == 0) {
            ok = rc == SPOOR_E_INVALID && out.len == pl;
        } else {
            ok = rc == 0 && out.len == pl + strlen(expect) && memcmp(out.data, PREFIX, pl) == 0 &&
                 strcmp(out.data + pl, expect) == 0;
        }
        if (!ok) {
            print_error("%s: rc %d (%s)\n", path, rc, spoor_err_name(rc));
            print_bytes("expected", expect, strlen(expect));
            print_bytes("got     ", out.data + pl, out.len >= pl ? out.len - pl : 0);
        }
        buf_cleanup(&out);
    }
    spec_free(&s);
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_golden_files(void **state)
{
    (void)state;
    DIR *d = opendir(DATA);
    if (!d)
        fail_msg("cannot open %s", DATA);
    char *names[512];
    size_t n = 0, failures = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t ln = strlen(e->d_name);
        if (ln > 3 && strcmp(e->d_name + ln - 3, ".ev") == 0) {
            if (n == sizeof names / sizeof names[0])
                fail_msg("more than %zu golden files: raise the limit", n);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", DATA, names[i]);
        if (!run_file(path))
            failures++;
        free(names[i]);
    }
    unsetenv("TZ");
    tzset();
    print_message("%zu golden files, %zu failures\n", n, failures);
    assert_true(n >= 70);
    assert_int_equal(failures, 0);
}

/* ---- ids.txt ---------------------------------------------------------------------------- */

static void test_ids(void **state)
{
    (void)state;
    char *text = slurp(DATA "/ids.txt");
    size_t cases = 0, failures = 0;
    unsigned line = 0;
    for (char *p = text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        line++;
        if (*p == '\0' || *p == '#')
            continue;
        char what[8], verdict[8];
        const char *a = strchr(p, '|'), *b = strrchr(p, '|');
        char *v = a && a != b ? decode(a + 1, (size_t)(b - a - 1)) : NULL;
        if (sscanf(p, "%7s %7s", what, verdict) != 2 || !v)
            fail_msg("ids.txt:%u: cannot read the line", line);
        bool want = strcmp(verdict, "ok") == 0;
        bool got = strcmp(what, "id") == 0 ? ev_id_valid(v) : ev_partition_key_valid(v);
        cases++;
        if (got != want) {
            print_error("ids.txt:%u: %s: got %s\n", line, p, got ? "ok" : "bad");
            failures++;
        }
        free(v);
    }
    free(text);
    print_message("ids.txt: %zu cases, %zu failures\n", cases, failures);
    assert_true(cases >= 40);
    assert_int_equal(failures, 0);
    assert_false(ev_id_valid(NULL));
    assert_false(ev_partition_key_valid(NULL));
}

/* ---- contracts the files do not reach --------------------------------------------------- */

/* Past the ceiling: SPOOR_E_TOO_LARGE and the buffer as it was, never half a line. */
static void test_ceiling(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 64);
    buf_append_str(&out, "keep");
    struct ev e = {.type = EV_BEGIN_ENTRY, .time_ns = 0, .action = "a", .inputs = "{}"};
    assert_int_equal(ev_line(&e, &out), SPOOR_E_TOO_LARGE);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "keep");
    struct ev_pointer p = {.app_id = "a-rather-long-application-identifier",
                           .sequence_id = 1,
                           .has_sequence_id = true};
    assert_int_equal(ev_metadata_json(&out, "pk", &p, &p, JSON_STYLE_PYTHON), SPOOR_E_TOO_LARGE);
    assert_string_equal(out.data, "keep");
    assert_int_equal(ev_child_line(&out, "child", 0, "fork", &p), SPOOR_E_TOO_LARGE);
    assert_string_equal(out.data, "keep");
    buf_cleanup(&out);
}

static void test_bad_type(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 1024);
    struct ev e = {.type = (enum ev_type)99};
    assert_int_equal(ev_line(&e, &out), SPOOR_E_INVALID);
    assert_int_equal(out.len, 0);
    struct ev spans = {.type = EV_BEGIN_SPAN, .span_id = "0:0", .span_name = "s", .ndeps = 2};
    assert_int_equal(ev_line(&spans, &out), SPOOR_E_INVALID); /* ndeps without deps */
    assert_int_equal(out.len, 0);
    buf_cleanup(&out);
}

/* Times before the epoch floor to the microsecond below, as Python's datetime does. */
static void test_negative_times(void **state)
{
    (void)state;
    char t[40];
    setenv("TZ", "UTC0", 1);
    tzset();
    ev_time_utc(-1, t);
    assert_string_equal(t, "1969-12-31T23:59:59.999999Z");
    ev_time_local(-1000000000, t);
    assert_string_equal(t, "1969-12-31T23:59:59");
    ev_time_utc(-1500, t);
    assert_string_equal(t, "1969-12-31T23:59:59.999998Z");
    unsetenv("TZ");
    tzset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_files),   cmocka_unit_test(test_ids),
        cmocka_unit_test(test_ceiling),        cmocka_unit_test(test_bad_type),
        cmocka_unit_test(test_negative_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
