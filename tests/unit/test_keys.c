/*
 * test_keys.c: S3 key parsing and file classification (server/keys.h), data-driven from
 * tests/data/keys/cases.txt (its header describes the format). Every case is checked and each
 * failure printed with its line, expected and got; the run fails at the end if any did.
 * A few properties the file cannot express (views point into the key, NULL why, length
 * rather than NUL termination) are separate tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <spoor/error.h>

#include "keys.h"
#include "uri.h"

#define CASES SPOOR_TEST_DATA "/keys/cases.txt"

/* Decodes %XX escapes of s[0..n) into out (at least n+1 bytes); returns the decoded length. */
static size_t unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && uri_hex_value((unsigned char)s[i + 1]) >= 0 &&
            uri_hex_value((unsigned char)s[i + 2]) >= 0) {
            out[o++] = (char)(uri_hex_value((unsigned char)s[i + 1]) * 16 +
                              uri_hex_value((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return o;
}

static bool view_is(const char *p, size_t n, const char *want)
{
    return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

static const char *type_name(enum key_file t)
{
    return t == KEY_FILE_GRAPH      ? "graph"
           : t == KEY_FILE_METADATA ? "metadata"
           : t == KEY_FILE_CHILDREN ? "children"
                                    : "log";
}

/* The value of "name=" among the space-separated, escaped fields, decoded into buf. */
static const char *field(const char *fields, const char *name, char *buf)
{
    size_t nl = strlen(name);
    for (const char *p = fields; p && *p;) {
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
            unescape(p + nl + 1, n - nl - 1, buf);
            return buf;
        }
        p = end ? end + 1 : NULL;
    }
    fail_msg("case without field %s: %s", name, fields);
    return NULL;
}

/* Compares a successful parse with the OK fields; prints and returns false on mismatch. */
static bool check_ok(int line, const struct key_parts *k, const char *fields)
{
    char buf[1024], t[64];
    bool ok = true;
    snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d", k->year, k->month, k->day, k->hour,
             k->minute);
    const char *pk = field(fields, "pk", buf);
    bool pk_ok = strcmp(pk, "__none__") == 0 ? k->partition_key == NULL && k->partition_key_len == 0
                                             : view_is(k->partition_key, k->partition_key_len, pk);
    ok &= pk_ok;
    ok &= view_is(k->project, k->project_len, field(fields, "project", buf));
    ok &= view_is(k->app_id, k->app_id_len, field(fields, "app", buf));
    ok &= view_is(k->filename, k->filename_len, field(fields, "file", buf));
    ok &= strcmp(type_name(k->type), field(fields, "type", buf)) == 0;
    ok &= strcmp(t, field(fields, "time", buf)) == 0;
    ok &= fabs(k->second - strtod(field(fields, "sec", buf), NULL)) < 1e-9;
    if (!ok)
        fprintf(stderr,
                "cases.txt:%d: want %s\n  got project=%.*s pk=%.*s app=%.*s file=%.*s type=%s "
                "time=%s sec=%.6f\n",
                line, fields, (int)k->project_len, k->project, (int)k->partition_key_len,
                k->partition_key ? k->partition_key : "", (int)k->app_id_len, k->app_id,
                (int)k->filename_len, k->filename, type_name(k->type), t, k->second);
    return ok;
}

/* Runs one case line; returns false (after printing why) if it does not hold. */
static bool run_case(int line, char *text, size_t *n_ok, size_t *n_invalid)
{
    char *tab = strchr(text, '\t');
    if (!tab)
        fail_msg("cases.txt:%d: no tab", line);
    char key[1024];
    if ((size_t)(tab - text) >= sizeof key)
        fail_msg("cases.txt:%d: key too long", line);
    size_t len = unescape(text, (size_t)(tab - text), key);
    const char *want = tab + 1, *why = NULL;
    struct key_parts k;
    memset(&k, 0, sizeof k);
    int rc = key_parse(key, len, &k, &why);
    if (strncmp(want, "INVALID ", 8) == 0) {
        (*n_invalid)++;
        if (rc == SPOOR_E_INVALID && why && strstr(why, want + 8))
            return true;
        fprintf(stderr, "cases.txt:%d: want %s, got rc=%d why=%s\n", line, want, rc,
                why ? why : "(null)");
        return false;
    }
    if (strncmp(want, "OK ", 3) != 0)
        fail_msg("cases.txt:%d: expected OK or INVALID", line);
    (*n_ok)++;
    if (rc != 0) {
        fprintf(stderr, "cases.txt:%d: want OK, got rc=%d why=%s\n", line, rc, why);
        return false;
    }
    return check_ok(line, &k, want + 3);
}

static void test_cases(void **state)
{
    (void)state;
    FILE *f = fopen(CASES, "r");
    assert_non_null(f);
    char text[2048];
    int line = 0;
    size_t n_ok = 0, n_invalid = 0, failed = 0;
    while (fgets(text, sizeof text, f)) {
        line++;
        text[strcspn(text, "\r\n")] = '\0';
        if (text[0] == '\0' || text[0] == '#')
            continue;
        if (!run_case(line, text, &n_ok, &n_invalid))
            failed++;
    }
    fclose(f);
    printf("keys: %zu valid and %zu invalid cases, %zu failed\n", n_ok, n_invalid, failed);
    assert_int_equal(failed, 0);
    /* Guards against a truncated or misread file passing vacuously. */
    assert_true(n_ok >= 15);
    assert_true(n_invalid >= 50);
}

/* The views point into the caller's key, and why may be NULL. */
static void test_views_and_null_why(void **state)
{
    (void)state;
    const char *key = "data/p/2026/11/21/20/52:58.951270/user_7/app-2/x__log.jsonl";
    struct key_parts k;
    assert_int_equal(key_parse(key, strlen(key), &k, NULL), 0);
    assert_ptr_equal(k.project, key + 5);
    assert_ptr_equal(k.partition_key, key + 34);
    assert_ptr_equal(k.filename, key + strlen(key) - strlen("x__log.jsonl"));
    assert_int_equal(key_parse("data/p", 6, &k, NULL), SPOOR_E_INVALID);
}

/* Only len bytes are read: a key cut short of its terminator parses as the shorter key. */
static void test_length_not_nul(void **state)
{
    (void)state;
    const char *key = "data/p/2026/11/21/20/52:58/__none__/app-1/graph.jsonXYZ";
    struct key_parts k;
    const char *why = NULL;
    assert_int_equal(key_parse(key, strlen(key) - 3, &k, &why), 0);
    assert_int_equal(k.type, KEY_FILE_GRAPH);
    assert_int_equal(k.filename_len, strlen("graph.json"));
    assert_int_equal(key_parse(key, strlen(key), &k, &why), SPOOR_E_INVALID);
    assert_string_equal(why, "unknown file name");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_views_and_null_why),
        cmocka_unit_test(test_length_not_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
