/*
 * test_steps.c: step assembly (server/steps.h), data-driven from tests/data/steps/: each
 * NAME.jsonl is classified as the indexer does (ingest_parse_log), given to steps_build, and
 * the result compared byte for byte with NAME.json (one line, trailing newline ignored). Events
 * come back verbatim (verbatim.jsonl: 0.1, long digits and escapes stay as written). The
 * goldens were written by hand from burr-compat.md 2.3/2.4 and the fixes listed in steps.h. A
 * few properties the files cannot express (empty input, appending, the buffer ceiling) are
 * separate tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/files.h"

#include <spoor/error.h>

#include "buf.h"
#include "ingest.h"
#include "steps.h"

#define DIR SPOOR_TEST_DATA "/steps/"

/* Reads DIR name into a NUL-terminated malloc'd string. */
static char *slurp_data(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", DIR, name);
    char *s = slurp_n(path, len);
    if (!s)
        fail_msg("cannot open %s", path);
    return s;
}

/* Classifies the lines of text as the indexer does (ingest_parse_log) into lines. */
static size_t classify(const char *text, size_t len, struct ingest_log *log,
                       struct steps_line *lines, size_t max)
{
    assert_int_equal(ingest_parse_log(text, len, 1 << 20, log), 0);
    assert_true(log->n <= max);
    for (size_t i = 0; i < log->n; i++) {
        const struct ingest_event *e = &log->events[i];
        lines[i] = (struct steps_line){e->raw, e->raw_len, e->type, e->sequence_id, e->span_id};
    }
    return log->n;
}

static void run_case(void **state)
{
    const char *name = *state;
    char fin[128], fout[128];
    snprintf(fin, sizeof fin, "%s.jsonl", name);
    snprintf(fout, sizeof fout, "%s.json", name);
    size_t in_len, want_len;
    char *in = slurp_data(fin, &in_len), *want = slurp_data(fout, &want_len);
    while (want_len && want[want_len - 1] == '\n')
        want[--want_len] = '\0';
    struct steps_line lines[64];
    struct ingest_log log;
    size_t n = classify(in, in_len, &log, lines, 64);
    struct buf out;
    buf_init(&out, 1 << 20);
    assert_int_equal(steps_build(lines, n, &out), 0);
    if (out.len != want_len || memcmp(out.data, want, want_len) != 0)
        fail_msg("%s:\n want %s\n  got %s", name, want, out.data);
    buf_cleanup(&out);
    ingest_log_cleanup(&log);
    free(in);
    free(want);
}

static void test_empty(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 64);
    assert_int_equal(steps_build(NULL, 0, &out), 0);
    assert_string_equal(out.data, "[]");
    buf_cleanup(&out);
}

static const char *const begin =
    "{\"type\":\"begin_entry\",\"start_time\":\"t\",\"action\":\"a\",\"inputs\":{},"
    "\"sequence_id\":0}";

static void test_appends(void **state)
{
    (void)state;
    struct steps_line l = {begin, strlen(begin), "begin_entry", 0, NULL};
    struct buf out;
    buf_init(&out, 1024);
    assert_int_equal(buf_append_str(&out, "x="), 0);
    assert_int_equal(steps_build(&l, 1, &out), 0);
    assert_string_equal(out.data,
                        "x=[{\"step_start_log\":{\"type\":\"begin_entry\",\"start_time\":\"t\","
                        "\"action\":\"a\",\"inputs\":{},\"sequence_id\":0},\"step_end_log\":null,"
                        "\"spans\":[],\"attributes\":[],\"streaming_events\":[]}]");
    buf_cleanup(&out);
}

/* Past the ceiling: SPOOR_E_TOO_LARGE and the buffer as it was. */
static void test_too_large(void **state)
{
    (void)state;
    struct steps_line l = {begin, strlen(begin), "begin_entry", 0, NULL};
    struct buf out;
    buf_init(&out, 60);
    assert_int_equal(buf_append_str(&out, "keep"), 0);
    assert_int_equal(steps_build(&l, 1, &out), SPOOR_E_TOO_LARGE);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "keep");
    buf_cleanup(&out);
}

/* Named after its data file, so a failure says which case. */
#define CASE(name)                                                                                 \
    {                                                                                              \
        (name), run_case, NULL, NULL, (void *)(name)                                               \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE("normal"),
        CASE("span_end_first"),
        CASE("orphan_end_span"),
        CASE("orphan_end_entry"),
        CASE("out_of_order"),
        CASE("stream"),
        CASE("failed"),
        CASE("running"),
        CASE("ignored"),
        CASE("verbatim"),
        CASE("begin_twice"),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
