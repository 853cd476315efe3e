/*
 * test_json.c: the tracker's JSON checker and re-emitter (client/tracker/json.h), data-driven
 * from tests/data/json/.
 *
 *  check.txt   one json_check (or json_utf8_valid) case a line: verdict, kind, text, and for a
 *              refusal the byte offset and a substring of the reason. Every "any" line also
 *              goes through json_reemit: accepted texts must re-emit (and the compact output
 *              must check and re-emit to itself), refused ones must leave the buffer as it was.
 *  reemit.txt  json_reemit / json_put_string input and the exact output in both styles.
 *
 * The syntax of both files is described at their top. Every case runs; each failure is printed
 * with file:line, expected and got, and the test fails at the end if any did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/escapes.h"
#include "support/files.h"

#include <spoor/error.h>

#include "buf.h"
#include "../../client/tracker/json.h"

#define DATA SPOOR_TEST_DATA "/json"

/* ---- files and the text escapes ------------------------------------------------------- */

/* The |TEXT| of line (between its first and last '|'), decoded into out; *rest after it. */
static bool take_text(const char *line, struct buf *out, const char **rest)
{
    const char *a = strchr(line, '|'), *b = strrchr(line, '|');
    if (!a || a == b)
        return false;
    buf_reset(out);
    if (rest)
        *rest = b + 1;
    return test_unescape(a + 1, (size_t)(b - a - 1), out);
}

/* Printable rendering of bytes for failure messages (static buffer). */
static const char *show(const char *s, size_t n)
{
    static char o[2][8192];
    static int k;
    char *p = o[k ^= 1], *e = p + sizeof o[0] - 8;
    for (size_t i = 0; i < n && p < e; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '%')
            *p++ = (char)c;
        else
            p += snprintf(p, 8, "%%%02X", c);
    }
    *p = '\0';
    return o[k];
}

struct run {
    const char *file;
    unsigned line;
    size_t cases, failures;
};

static void failf(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(struct run *r, const char *fmt, ...)
{
    char msg[20000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("%s:%u: %s\n", r->file, r->line, msg);
    r->failures++;
}

/* Calls fn(r, line) for each case line of path (not blank, not '#'). */
static void each_line(struct run *r, const char *path, void (*fn)(struct run *, char *, void *),
                      void *arg)
{
    char *text = slurp(path);
    if (!text)
        fail_msg("cannot open %s", path);
    r->file = path;
    r->line = 0;
    for (char *p = text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        r->line++;
        if (*p == '\0' || *p == '#')
            continue;
        fn(r, p, arg);
    }
    free(text);
}

/* ---- check.txt ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    enum json_kind kind;
} kinds[] = {{"any", JSON_KIND_ANY},
             {"object", JSON_KIND_OBJECT},
             {"object_or_null", JSON_KIND_OBJECT_OR_NULL},
             {"string_map", JSON_KIND_STRING_MAP},
             {"string_array", JSON_KIND_STRING_ARRAY}};

/* Every accepted text re-emits; the compact form is valid and a fixed point. A refused one
 * leaves the buffer untouched. */
static void reemit_cross(struct run *r, const struct buf *in, bool ok)
{
    struct buf out, again;
    buf_init(&out, 1 << 20);
    buf_init(&again, 1 << 20);
    buf_append_str(&out, "keep");
    int rc = json_reemit(in->data, in->len, JSON_STYLE_COMPACT, &out);
    if (ok && rc != 0) {
        failf(r, "json_reemit refused an accepted text: %d", rc);
    } else if (!ok && (rc != SPOOR_E_INVALID || out.len != 4 || strcmp(out.data, "keep") != 0)) {
        failf(r, "json_reemit of a refused text: rc %d, buffer \"%s\"", rc,
              show(out.data, out.len));
    } else if (ok) {
        const char *why = NULL;
        size_t where = 0;
        if (json_check(out.data + 4, out.len - 4, JSON_KIND_ANY, &where, &why) != 0)
            failf(r, "compact output does not check (%s at %zu): %s", why, where,
                  show(out.data + 4, out.len - 4));
        else if (json_reemit(out.data + 4, out.len - 4, JSON_STYLE_COMPACT, &again) != 0 ||
                 again.len != out.len - 4 || memcmp(again.data, out.data + 4, again.len) != 0)
            failf(r, "compact output is not a fixed point");
    }
    buf_cleanup(&out);
    buf_cleanup(&again);
}

static void check_utf8_case(struct run *r, bool ok, const struct buf *text)
{
    if (json_utf8_valid(text->data ? text->data : "", text->len) != ok)
        failf(r, "json_utf8_valid(%s) should be %s", show(text->data, text->len),
              ok ? "true" : "false");
}

static void check_case(struct run *r, char *line, void *arg)
{
    struct buf *text = arg;
    char verdict[8], kname[32];
    const char *rest;
    if (sscanf(line, "%7s %31s", verdict, kname) != 2 || !take_text(line, text, &rest)) {
        failf(r, "cannot read the case line");
        return;
    }
    bool ok = strcmp(verdict, "ok") == 0;
    r->cases++;
    if (strcmp(kname, "utf8") == 0) {
        check_utf8_case(r, ok, text);
        return;
    }
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].name, kname) != 0)
        k++;
    if (k == sizeof kinds / sizeof kinds[0]) {
        failf(r, "unknown kind %s", kname);
        return;
    }
    const char *data = text->data ? text->data : "";
    size_t where = SIZE_MAX;
    const char *why = NULL;
    int rc = json_check(data, text->len, kinds[k].kind, &where, &why);
    if (ok) {
        if (rc != 0)
            failf(r, "refused (%s at %zu): %s", why, where, show(data, text->len));
    } else {
        char *end;
        size_t want_at = strtoul(rest, &end, 10);
        while (*end == ' ')
            end++;
        if (rc != SPOOR_E_INVALID)
            failf(r, "accepted: %s", show(data, text->len));
        else if (where != want_at || !why || !strstr(why, end))
            failf(r, "expected \"%s\" at %zu, got \"%s\" at %zu", end, want_at,
                  why ? why : "(null)", where);
    }
    if (kinds[k].kind == JSON_KIND_ANY)
        reemit_cross(r, text, ok);
}

static void test_check_table(void **state)
{
    (void)state;
    struct run r = {0};
    struct buf text;
    buf_init(&text, 1 << 20);
    each_line(&r, DATA "/check.txt", check_case, &text);
    buf_cleanup(&text);
    print_message("check.txt: %zu cases, %zu failures\n", r.cases, r.failures);
    assert_true(r.cases > 200);
    assert_int_equal(r.failures, 0);
}

/* ---- reemit.txt ----------------------------------------------------------------------- */

struct reemit_state {
    bool is_str; /* json_put_string rather than json_reemit */
    bool have_input;
    struct buf input, expect;
};

static void reemit_case(struct run *r, char *line, void *arg)
{
    struct reemit_state *s = arg;
    char tag[16];
    if (sscanf(line, "%15s", tag) != 1)
        return;
    if (strcmp(tag, "in") == 0 || strcmp(tag, "str") == 0) {
        s->is_str = tag[0] == 's';
        s->have_input = take_text(line, &s->input, NULL);
        if (!s->have_input)
            failf(r, "cannot read the input");
        return;
    }
    bool compact = strcmp(tag, "compact") == 0;
    if (!s->have_input || (!compact && strcmp(tag, "python") != 0)) {
        failf(r, "expected in, str, compact or python");
        return;
    }
    bool invalid = strstr(line, "!invalid") != NULL;
    if (!invalid && !take_text(line, &s->expect, NULL)) {
        failf(r, "cannot read the expectation");
        return;
    }
    struct buf out;
    buf_init(&out, 1 << 20);
    buf_append_str(&out, "<");
    enum json_style st = compact ? JSON_STYLE_COMPACT : JSON_STYLE_PYTHON;
    const char *in = s->input.data ? s->input.data : "";
    int rc = s->is_str ? json_put_string(&out, in, s->input.len, st)
                       : json_reemit(in, s->input.len, st, &out);
    r->cases++;
    if (invalid) {
        if (rc != SPOOR_E_INVALID || out.len != 1)
            failf(r, "expected SPOOR_E_INVALID and no output, got %d and %s", rc,
                  show(out.data + 1, out.len - 1));
    } else if (rc != 0 || out.len - 1 != s->expect.len ||
               memcmp(out.data + 1, s->expect.data ? s->expect.data : "", s->expect.len) != 0) {
        failf(r, "%s %s:\n  expected %s\n  got      %s (rc %d)", s->is_str ? "str" : "in", tag,
              show(s->expect.data, s->expect.len), show(out.data + 1, out.len - 1), rc);
    }
    buf_cleanup(&out);
}

static void test_reemit_table(void **state)
{
    (void)state;
    struct run r = {0};
    struct reemit_state s = {0};
    buf_init(&s.input, 1 << 20);
    buf_init(&s.expect, 1 << 20);
    each_line(&r, DATA "/reemit.txt", reemit_case, &s);
    buf_cleanup(&s.input);
    buf_cleanup(&s.expect);
    print_message("reemit.txt: %zu outputs, %zu failures\n", r.cases, r.failures);
    assert_true(r.cases > 60);
    assert_int_equal(r.failures, 0);
}

/* ---- contracts the tables do not reach -------------------------------------------------- */

/* json_check reads only len bytes: what follows in memory does not matter. */
static void test_check_respects_len(void **state)
{
    (void)state;
    assert_int_equal(json_check("[1]]", 3, JSON_KIND_ANY, NULL, NULL), 0);
    assert_int_equal(json_check("truex", 4, JSON_KIND_ANY, NULL, NULL), 0);
    assert_int_equal(json_check("\"ab\"", 3, JSON_KIND_ANY, NULL, NULL), SPOOR_E_INVALID);
    assert_int_equal(json_check("1.5", 2, JSON_KIND_ANY, NULL, NULL), SPOOR_E_INVALID);
    assert_int_equal(json_check(NULL, 0, JSON_KIND_ANY, NULL, NULL), SPOOR_E_INVALID);
    /* a NUL inside a string is a control character, not an end of text */
    assert_int_equal(json_check("\"a\0b\"", 5, JSON_KIND_ANY, NULL, NULL), SPOOR_E_INVALID);
}

/* Past the buffer's ceiling: SPOOR_E_TOO_LARGE and the buffer as it was. */
static void test_ceiling(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 16);
    assert_int_equal(buf_append_str(&out, "ab"), 0);
    const char *big = "{\"key\": \"a rather long value\"}";
    assert_int_equal(json_reemit(big, strlen(big), JSON_STYLE_PYTHON, &out), SPOOR_E_TOO_LARGE);
    assert_int_equal(out.len, 2);
    assert_string_equal(out.data, "ab");
    assert_int_equal(json_put_string(&out, "0123456789abcdef", 16, JSON_STYLE_COMPACT),
                     SPOOR_E_TOO_LARGE);
    assert_string_equal(out.data, "ab");
    /* exactly up to the ceiling is fine: "ab" + "\"0123456789ab\"" is 16 bytes */
    assert_int_equal(json_put_string(&out, "0123456789ab", 12, JSON_STYLE_COMPACT), 0);
    assert_string_equal(out.data, "ab\"0123456789ab\"");
    buf_cleanup(&out);
}

/* where and why may be NULL; on success they are not touched. */
static void test_optional_outputs(void **state)
{
    (void)state;
    size_t where = 77;
    const char *why = "untouched";
    assert_int_equal(json_check("{}", 2, JSON_KIND_OBJECT, &where, &why), 0);
    assert_int_equal(where, 77);
    assert_string_equal(why, "untouched");
    assert_int_equal(json_check("{", 1, JSON_KIND_OBJECT, NULL, &why), SPOOR_E_INVALID);
    assert_non_null(why);
    assert_int_equal(json_check("{", 1, JSON_KIND_OBJECT, &where, NULL), SPOOR_E_INVALID);
    assert_int_equal(where, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_table),        cmocka_unit_test(test_reemit_table),
        cmocka_unit_test(test_check_respects_len), cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_optional_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
