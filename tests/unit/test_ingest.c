/*
 * test_ingest.c: object bodies to index rows (server/ingest.h).
 *
 * Log bodies are data-driven from tests/data/ingest/: each <case>.jsonl has a <case>.expected
 * giving max_line_bytes, the exact skip counts and every kept event (line number, type,
 * sequence id, span id, time; "-" for none). Each event's raw view must be exactly its line of
 * the file, found here independently, without the line ending. Metadata and graph bodies are
 * short and written inline, in both the compact style Burr's S3 client writes and the
 * json.dump style (", " and ": ").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <spoor/error.h>

#include "ingest.h"

#define DATA SPOOR_TEST_DATA "/ingest"

/* The whole file (new; free()), with its length; fails the test when it cannot be read. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

/* Line line_no (1-based) of body, without '\n' and one trailing '\r'. */
static void nth_line(const char *body, size_t len, int line_no, const char **s, size_t *n)
{
    size_t pos = 0;
    for (int i = 1; i < line_no; i++) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        assert_non_null(nl);
        pos = (size_t)(nl - body) + 1;
    }
    const char *nl = memchr(body + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - body) : len;
    if (end > pos && body[end - 1] == '\r')
        end--;
    *s = body + pos;
    *n = end - pos;
}

static void check_str(const char *want, const char *got, const char *what, int line_no)
{
    if (strcmp(want, "-") == 0) {
        if (got)
            fail_msg("line %d: %s: want none, got \"%s\"", line_no, what, got);
    } else if (!got || strcmp(want, got) != 0) {
        fail_msg("line %d: %s: want \"%s\", got \"%s\"", line_no, what, want, got ? got : "(none)");
    }
}

static void check_event(const char *body, size_t len, const struct ingest_event *ev,
                        const char *line)
{
    int line_no;
    char type[32], seq[32], span[64], when[64];
    assert_int_equal(sscanf(line, "event %d %31s %31s %63s %63s", &line_no, type, seq, span, when),
                     5);
    assert_int_equal(ev->line_no, line_no);
    assert_string_equal(ev->type, type);
    assert_true(ev->has_sequence_id);
    assert_int_equal(ev->sequence_id, strtoll(seq, NULL, 10));
    check_str(span, ev->span_id, "span_id", line_no);
    check_str(when, ev->time, "time", line_no);
    const char *want;
    size_t want_len;
    nth_line(body, len, line_no, &want, &want_len);
    assert_ptr_equal(ev->raw, want);
    assert_int_equal(ev->raw_len, want_len);
}

static void check_skips(const struct ingest_skips *sk, const char *line)
{
    unsigned u, j, t, k, m;
    assert_int_equal(sscanf(line,
                            "skipped invalid_utf8=%u bad_json=%u too_long=%u unknown_type=%u "
                            "missing_field=%u",
                            &u, &j, &t, &k, &m),
                     5);
    assert_int_equal(sk->invalid_utf8, u);
    assert_int_equal(sk->bad_json, j);
    assert_int_equal(sk->too_long, t);
    assert_int_equal(sk->unknown_type, k);
    assert_int_equal(sk->missing_field, m);
}

static void run_case(const char *name)
{
    char path[512];
    size_t len, elen;
    snprintf(path, sizeof path, "%s/%s.jsonl", DATA, name);
    char *body = read_all(path, &len);
    snprintf(path, sizeof path, "%s/%s.expected", DATA, name);
    char *exp = read_all(path, &elen);
    struct ingest_log log;
    size_t next = 0, max_line_bytes = 0;
    bool have_max = false;
    for (char *line = strtok(exp, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        if (sscanf(line, "max_line_bytes %zu", &max_line_bytes) == 1) {
            assert_int_equal(ingest_parse_log(body, len, max_line_bytes, &log), 0);
            have_max = true;
        } else if (strncmp(line, "skipped ", 8) == 0) {
            assert_true(have_max);
            check_skips(&log.skipped, line);
        } else {
            assert_true(have_max);
            assert_true(next < log.n);
            check_event(body, len, &log.events[next++], line);
        }
    }
    assert_true(have_max);
    assert_int_equal(log.n, next);
    ingest_log_cleanup(&log);
    assert_null(log.events);
    assert_int_equal(log.n, 0);
    free(exp);
    free(body);
}

static void test_burr_log(void **state)
{
    run_case("burr_log");
}

static void test_bad_lines(void **state)
{
    run_case("bad_lines");
}

static void test_crlf(void **state)
{
    run_case("crlf");
}

static void test_escapes(void **state)
{
    run_case("escapes");
}

static bool no_skips(const struct ingest_skips *sk)
{
    return sk->invalid_utf8 + sk->bad_json + sk->too_long + sk->unknown_type + sk->missing_field ==
           0;
}

static void test_empty_and_newlines(void **state)
{
    static const char *bodies[] = {"", "\n", "\n\n\n", "\r\n", "  \n\t\r\n"};
    struct ingest_log log;
    assert_int_equal(ingest_parse_log(NULL, 0, 100, &log), 0);
    assert_int_equal(log.n, 0);
    assert_true(no_skips(&log.skipped));
    ingest_log_cleanup(&log);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        assert_int_equal(ingest_parse_log(bodies[i], strlen(bodies[i]), 100, &log), 0);
        assert_int_equal(log.n, 0);
        assert_true(no_skips(&log.skipped));
        ingest_log_cleanup(&log);
    }
}

static void test_trailing_newline(void **state)
{
    static const char line[] = "{\"type\":\"begin_entry\",\"sequence_id\":3}";
    static const char *bodies[] = {
        "{\"type\":\"begin_entry\",\"sequence_id\":3}",
        "{\"type\":\"begin_entry\",\"sequence_id\":3}\n",
        "{\"type\":\"begin_entry\",\"sequence_id\":3}\r\n",
    };
    struct ingest_log log;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        assert_int_equal(ingest_parse_log(bodies[i], strlen(bodies[i]), 100, &log), 0);
        assert_int_equal(log.n, 1);
        assert_true(no_skips(&log.skipped));
        assert_int_equal(log.events[0].line_no, 1);
        assert_int_equal(log.events[0].sequence_id, 3);
        assert_null(log.events[0].time); /* no start_time: kept, no time */
        assert_int_equal(log.events[0].raw_len, strlen(line));
        assert_memory_equal(log.events[0].raw, line, strlen(line));
        ingest_log_cleanup(&log);
    }
}

static void test_all_skipped(void **state)
{
    static const char body[] = "{\"type\":\"application_metadata\"}\n[1]\n{\"type\":\"end_entry\"}";
    struct ingest_log log;
    assert_int_equal(ingest_parse_log(body, strlen(body), 100, &log), 0);
    assert_int_equal(log.n, 0);
    assert_null(log.events);
    assert_int_equal(log.skipped.unknown_type, 1);
    assert_int_equal(log.skipped.bad_json, 1);
    assert_int_equal(log.skipped.missing_field, 1);
    ingest_log_cleanup(&log);
}

/* ---- metadata.json ------------------------------------------------------------------------ */

static void test_metadata_no_pointers(void **state)
{
    static const char *bodies[] = {
        "{\"type\":\"application_metadata\",\"partition_key\":\"user_7\",\"parent_pointer\":null,"
        "\"spawning_parent_pointer\":null}",
        "{\"type\": \"application_metadata\", \"partition_key\": \"user_7\"}",
        "{\"partition_key\":\"user_7\",\"unknown\":[1,2]}",
    };
    struct ingest_metadata m;
    const char *why = NULL;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        assert_int_equal(ingest_parse_metadata(bodies[i], strlen(bodies[i]), &m, &why), 0);
        assert_string_equal(m.partition_key, "user_7");
        assert_false(m.parent.present);
        assert_null(m.parent.app_id);
        assert_false(m.spawning.present);
        ingest_metadata_cleanup(&m);
    }
    static const char *none[] = {"{}", "{\"partition_key\":null}",
                                 "{\"type\": \"application_metadata\", \"partition_key\": null, "
                                 "\"parent_pointer\": null, \"spawning_parent_pointer\": null}"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        assert_int_equal(ingest_parse_metadata(none[i], strlen(none[i]), &m, &why), 0);
        assert_null(m.partition_key);
        assert_false(m.parent.present);
        assert_false(m.spawning.present);
        ingest_metadata_cleanup(&m);
    }
}

static void check_pointers(const struct ingest_metadata *m)
{
    assert_null(m->partition_key);
    assert_true(m->parent.present);
    assert_string_equal(m->parent.app_id, "app-parent:1");
    assert_string_equal(m->parent.partition_key, "pk_é");
    assert_true(m->parent.has_sequence_id);
    assert_int_equal(m->parent.sequence_id, 12);
    assert_true(m->spawning.present);
    assert_string_equal(m->spawning.app_id, "spawner");
    assert_null(m->spawning.partition_key);
    assert_false(m->spawning.has_sequence_id);
}

static void test_metadata_pointers(void **state)
{
    /* The spawning pointer's sequence_id is null in one, absent in the other, and so on. */
    static const char compact[] =
        "{\"type\":\"application_metadata\",\"partition_key\":null,\"parent_pointer\":"
        "{\"type\":\"pointer_data\",\"app_id\":\"app-parent:1\",\"sequence_id\":12,"
        "\"partition_key\":\"pk_\xc3\xa9\"},\"spawning_parent_pointer\":{\"type\":\"pointer_data\","
        "\"app_id\":\"spawner\",\"sequence_id\":null,\"partition_key\":null}}";
    static const char dumped[] =
        "{\"parent_pointer\": {\"app_id\": \"app-parent:1\", \"sequence_id\": 12, "
        "\"partition_key\": \"pk_\\u00e9\"}, \"spawning_parent_pointer\": {\"app_id\": "
        "\"spawner\"}}\n";
    struct ingest_metadata m;
    const char *why = NULL;
    assert_int_equal(ingest_parse_metadata(compact, strlen(compact), &m, &why), 0);
    check_pointers(&m);
    ingest_metadata_cleanup(&m);
    assert_int_equal(ingest_parse_metadata(dumped, strlen(dumped), &m, &why), 0);
    check_pointers(&m);
    ingest_metadata_cleanup(&m);
    assert_null(m.parent.app_id);
}

static void test_metadata_invalid(void **state)
{
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"", "not a JSON object"},
        {"[]", "not a JSON object"},
        {"{\"partition_key\":\"a\"", "not a JSON object"},
        {"{} {}", "not a JSON object"},
        {"{\"partition_key\":\"\xff\"}", "not a JSON object"},
        {"{\"type\":1}", "type is not a string"},
        {"{\"partition_key\":7}", "partition_key is not a string or null"},
        {"{\"parent_pointer\":\"app\"}", "pointer is not an object or null"},
        {"{\"parent_pointer\":{\"sequence_id\":1}}", "pointer app_id is not a string"},
        {"{\"spawning_parent_pointer\":{\"app_id\":\"a\",\"sequence_id\":\"1\"}}",
         "pointer sequence_id is not an integer or null"},
        {"{\"parent_pointer\":{\"app_id\":\"a\",\"sequence_id\":1.5}}",
         "pointer sequence_id is not an integer or null"},
        {"{\"parent_pointer\":{\"app_id\":\"a\",\"partition_key\":false}}",
         "pointer partition_key is not a string or null"},
        {"{\"parent_pointer\":{\"app_id\":\"a\",\"type\":[]}}", "pointer type is not a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ingest_metadata m;
        const char *why = NULL;
        int rc = ingest_parse_metadata(cases[i].body, strlen(cases[i].body), &m, &why);
        if (rc != SPOOR_E_INVALID || !why || strcmp(why, cases[i].why) != 0)
            fail_msg("%s: rc %d why \"%s\", want \"%s\"", cases[i].body, rc, why ? why : "",
                     cases[i].why);
        assert_null(m.partition_key);
        assert_false(m.parent.present);
        assert_null(m.parent.app_id);
        assert_null(m.spawning.app_id);
        ingest_metadata_cleanup(&m);
    }
    struct ingest_metadata m;
    assert_int_equal(ingest_parse_metadata("1", 1, &m, NULL), SPOOR_E_INVALID);
}

/* ---- graph.json --------------------------------------------------------------------------- */

static void test_graph(void **state)
{
    static const char graph[] =
        "{\"type\":\"application\",\"entrypoint\":\"counter\",\"actions\":[{\"type\":\"action\","
        "\"name\":\"counter\",\"reads\":[\"counter\"],\"writes\":[\"counter\"],\"code\":\"def "
        "counter(state):\\n    return state\",\"inputs\":[],\"optional_inputs\":[]}],"
        "\"transitions\":[{\"type\":\"transition\",\"from_\":\"counter\",\"to\":\"counter\","
        "\"condition\":\"counter < count_to\"}]}";
    size_t n = strlen(graph);
    const char *why = NULL;
    assert_int_equal(ingest_check_graph(graph, n, n, &why), 0);
    assert_int_equal(ingest_check_graph("{}", 2, 1 << 20, &why), 0);
    assert_int_equal(ingest_check_graph(graph, n, n - 1, &why), SPOOR_E_INVALID);
    assert_string_equal(why, "graph is larger than the limit");
    static const char *bad[] = {"",           "[]",  "\"application\"",
                                "{\"type\":", "{}x", "{\"a\":\"\xc0\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(ingest_check_graph(bad[i], strlen(bad[i]), 1 << 20, &why),
                         SPOOR_E_INVALID);
        assert_string_equal(why, "not a JSON object");
    }
    assert_int_equal(ingest_check_graph("[]", 2, 100, NULL), SPOOR_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burr_log),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_empty_and_newlines),
        cmocka_unit_test(test_trailing_newline),
        cmocka_unit_test(test_all_skipped),
        cmocka_unit_test(test_metadata_no_pointers),
        cmocka_unit_test(test_metadata_pointers),
        cmocka_unit_test(test_metadata_invalid),
        cmocka_unit_test(test_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
