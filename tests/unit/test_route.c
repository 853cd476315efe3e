/*
 * test_route.c: the route table (route.h), data-driven from tests/data/route/.
 *
 *  valid/NAME.cases   directives against NAME.json, loaded with route_table_load (or against
 *                     an implicit table named by a "table" line); every case is checked and
 *                     each failure printed with file:line, expected and got.
 *  invalid/NAME.json  a configuration that must be refused; NAME.expect gives the exact
 *                     number of problems and substrings that must appear among them.
 *
 * Both directories are walked, so a file added there is run without touching this file, and
 * a .json without its .cases/.expect (or the other way round) fails.
 *
 * .cases directives (one a line; '#' starts a comment line; keys may hold spaces, never " -> "):
 *   table default_s3 | table default_file ROOT   use an implicit table, not NAME.json
 *   endpoints N / routes N                        counts
 *   endpoint NAME TYPE [field=value ...]          fields: url region addressing root profile
 *                                                 access_key_id_env secret_access_key_env
 *                                                 session_token_env
 *   route N FROM -> TO [read_only] [index=K]      table position N holds exactly this route
 *   match s3://B/KEY -> N EP://TB/TKEY            first match, target, and the round trip
 *                                                 reverse(forward(KEY)) == KEY matching N again
 *   reverse N KEY -> CALLERKEY | DROP
 *   start_after N S -> OMIT | EMPTY | SEND X
 *   nested s3://B/PREFIX -> N,M,... | none        route_nested under route_match(B, PREFIX)
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
#include <dirent.h>

#include <spoor/error.h>

#include "route.h"

#define DATA SPOOR_TEST_DATA "/route"

enum { C_MATCH, C_REVERSE, C_START, C_NESTED, C_TABLE, C_NCOUNTERS };
static const char *const counter_names[] = {"match (+ round trip)", "reverse", "start_after",
                                            "nested", "table shape"};
static size_t counters[C_NCOUNTERS];
static size_t invalid_files, invalid_substrings;

/* ---- files ---------------------------------------------------------------------------- */

static bool exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* path with its extension replaced (new). */
static char *sibling(const char *path, const char *ext)
{
    const char *dot = strrchr(path, '.');
    size_t n = (size_t)(dot - path);
    char *s = malloc(n + strlen(ext) + 1);
    assert_non_null(s);
    memcpy(s, path, n);
    memcpy(s + n, ext, strlen(ext) + 1);
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Full paths of dir's files ending in ext, sorted (new, NULL-terminated). */
static char **list_dir(const char *dir, const char *ext, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    char **v = NULL;
    *n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t ln = strlen(e->d_name), le = strlen(ext);
        if (ln <= le || strcmp(e->d_name + ln - le, ext) != 0)
            continue;
        v = realloc(v, (*n + 2) * sizeof *v);
        assert_non_null(v);
        size_t sz = strlen(dir) + ln + 2;
        v[*n] = malloc(sz);
        assert_non_null(v[*n]);
        snprintf(v[*n], sz, "%s/%s", dir, e->d_name);
        (*n)++;
    }
    closedir(d);
    if (v) {
        qsort(v, *n, sizeof *v, cmp_str);
        v[*n] = NULL;
    }
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- valid tables: the .cases runner -------------------------------------------------- */

struct run {
    const char *file;
    unsigned line;
    size_t failures;
    bool have_table;
    struct route_table t;
};

static void failf(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(struct run *r, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("%s:%u: %s\n", r->file, r->line, msg);
    r->failures++;
}

/* `""` in a case file stands for the empty string. */
static const char *unq(const char *s)
{
    return strcmp(s, "\"\"") == 0 ? "" : s;
}

static bool num(const char *s, size_t *out, char **end)
{
    char *e;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long v = strtoul(s, &e, 10);
    *out = v;
    if (end)
        *end = e;
    return end ? true : *e == '\0';
}

/* "s3://B/KEY" into bucket (new) and key (borrowed from uri). */
static bool split_s3(const char *uri, char **bucket, const char **key)
{
    if (strncmp(uri, "s3://", 5) != 0)
        return false;
    const char *slash = strchr(uri + 5, '/');
    if (!slash)
        return false;
    *bucket = strndup(uri + 5, (size_t)(slash - uri - 5));
    *key = slash + 1;
    return true;
}

static size_t pos(const struct run *r, const struct route *m)
{
    return m ? (size_t)(m - r->t.routes) : SIZE_MAX;
}

static const struct route *route_at(struct run *r, const char *s, char **rest)
{
    size_t n;
    if (!num(s, &n, rest) || (**rest != ' ' && **rest != '\0')) {
        failf(r, "expected a route number, got \"%s\"", s);
        return NULL;
    }
    if (**rest == ' ')
        (*rest)++;
    if (n >= r->t.nroutes) {
        failf(r, "route %zu: the table has only %zu routes", n, r->t.nroutes);
        return NULL;
    }
    return &r->t.routes[n];
}

static void case_match(struct run *r, const char *left, const char *right)
{
    char *bucket, *end;
    const char *key;
    size_t want;
    if (!split_s3(left, &bucket, &key) || !num(right, &want, &end) || *end != ' ') {
        failf(r, "malformed match case");
        return;
    }
    const struct route *m = route_match(&r->t, bucket, key);
    char *desc = m ? route_describe_target(&r->t, m, bucket, key) : NULL;
    char *fwd = m ? route_key_forward(m, key) : NULL;
    char *back = fwd ? route_key_reverse(m, fwd) : NULL;
    if (pos(r, m) != want)
        failf(r, "match %s: expected route %zu, got %zu", left, want, pos(r, m));
    else if (!desc || strcmp(desc, end + 1) != 0)
        failf(r, "match %s: expected target %s, got %s", left, end + 1, desc ? desc : "NULL");
    else if (!back || strcmp(back, key) != 0)
        failf(r, "round trip of \"%s\": forward \"%s\", back \"%s\"", key, fwd ? fwd : "NULL",
              back ? back : "NULL");
    else if (route_match(&r->t, bucket, back) != m)
        failf(r, "round trip of \"%s\" matches route %zu, not %zu", key,
              pos(r, route_match(&r->t, bucket, back)), want);
    free(desc);
    free(fwd);
    free(back);
    free(bucket);
}

static void case_reverse(struct run *r, const char *left, const char *right)
{
    char *key;
    const struct route *m = route_at(r, left, &key);
    if (!m)
        return;
    char *got = route_key_reverse(m, unq(key));
    bool drop = strcmp(right, "DROP") == 0;
    if (drop ? got != NULL : !got || strcmp(got, unq(right)) != 0)
        failf(r, "reverse \"%s\": expected %s, got %s%s%s", key, right, got ? "\"" : "",
              got ? got : "DROP", got ? "\"" : "");
    free(got);
}

static void case_start(struct run *r, const char *left, const char *right)
{
    static const char *const names[] = {"OMIT", "SEND", "EMPTY"};
    char *s;
    const struct route *m = route_at(r, left, &s);
    if (!m)
        return;
    char *out = (char *)"untouched";
    enum route_start how = route_start_after(m, unq(s), &out);
    const char *want_key = strncmp(right, "SEND ", 5) == 0 ? unq(right + 5) : NULL;
    bool ok = want_key ? how == ROUTE_START_SEND && out && strcmp(out, want_key) == 0
                       : strcmp(names[how], right) == 0 && out == NULL;
    if (!ok)
        failf(r, "start_after \"%s\": expected %s, got %s %s", s, right, names[how],
              out ? out : "(out NULL)");
    if (how == ROUTE_START_SEND)
        free(out);
}

static void case_nested(struct run *r, const char *left, const char *right)
{
    char *bucket;
    const char *prefix;
    if (!split_s3(left, &bucket, &prefix)) {
        failf(r, "malformed nested case");
        return;
    }
    const struct route *out[16];
    const struct route *m = route_match(&r->t, bucket, prefix);
    size_t n = route_nested(&r->t, bucket, prefix, m, out, 16);
    char got[256] = "";
    for (size_t i = 0; i < n && i < 16; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu", i ? "," : "",
                 pos(r, out[i]));
    if (strcmp(got[0] ? got : "none", right) != 0)
        failf(r, "nested %s (matched route %zu): expected %s, got %s", left, pos(r, m), right,
              got[0] ? got : "none");
    free(bucket);
}

static void case_route(struct run *r, const char *left, char *right)
{
    char *from;
    const struct route *m = route_at(r, left, &from);
    if (!m)
        return;
    char *to = strtok(right, " ");
    bool read_only = false;
    size_t index = pos(r, m);
    for (char *f = strtok(NULL, " "); f; f = strtok(NULL, " ")) {
        if (strcmp(f, "read_only") == 0)
            read_only = true;
        else if (strncmp(f, "index=", 6) != 0 || !num(f + 6, &index, NULL))
            failf(r, "unknown route flag \"%s\"", f);
    }
    char got_from[1024], got_to[1024];
    snprintf(got_from, sizeof got_from, "s3://%s/%s", m->from_bucket, m->from_prefix);
    snprintf(got_to, sizeof got_to, "%s://%s/%s",
             m->endpoint < r->t.nendpoints ? r->t.endpoints[m->endpoint].name : "?", m->to_bucket,
             m->to_prefix);
    if (strcmp(got_from, from) != 0 || strcmp(got_to, to ? to : "") != 0 ||
        m->read_only != read_only || m->index != index)
        failf(r, "route %zu: expected %s -> %s%s index %zu, got %s -> %s%s index %zu", pos(r, m),
              from, to, read_only ? " read_only" : "", index, got_from, got_to,
              m->read_only ? " read_only" : "", m->index);
}

static const char *ep_field(const struct route_endpoint *e, const char *name)
{
    static const char *const addressing[] = {"auto", "path", "virtual"};
    if (strcmp(name, "url") == 0)
        return e->url;
    if (strcmp(name, "region") == 0)
        return e->region;
    if (strcmp(name, "root") == 0)
        return e->root;
    if (strcmp(name, "addressing") == 0)
        return addressing[e->addressing];
    if (strcmp(name, "profile") == 0)
        return e->creds.profile;
    if (strcmp(name, "access_key_id_env") == 0)
        return e->creds.access_key_id_env;
    if (strcmp(name, "secret_access_key_env") == 0)
        return e->creds.secret_access_key_env;
    if (strcmp(name, "session_token_env") == 0)
        return e->creds.session_token_env;
    return NULL;
}

static void case_endpoint(struct run *r, char *args)
{
    static const char *const types[] = {"s3", "lakefs", "file"};
    char *name = strtok(args, " "), *type = strtok(NULL, " ");
    const struct route_endpoint *e = NULL;
    for (size_t i = 0; name && i < r->t.nendpoints; i++)
        if (strcmp(r->t.endpoints[i].name, name) == 0)
            e = &r->t.endpoints[i];
    if (!e || !type) {
        failf(r, "endpoint %s: not in the table", name ? name : "(none)");
        return;
    }
    if (strcmp(types[e->type], type) != 0)
        failf(r, "endpoint %s: expected type %s, got %s", name, type, types[e->type]);
    for (char *f = strtok(NULL, " "); f; f = strtok(NULL, " ")) {
        char *eq = strchr(f, '=');
        const char *got = eq ? (*eq = '\0', ep_field(e, f)) : NULL;
        if (!got)
            failf(r, "endpoint %s: unknown field \"%s\"", name, f);
        else if (strcmp(got, unq(eq + 1)) != 0)
            failf(r, "endpoint %s: expected %s=%s, got \"%s\"", name, f, eq + 1, got);
    }
}

static void case_count(struct run *r, const char *what, const char *arg)
{
    size_t want, got = strcmp(what, "routes") == 0 ? r->t.nroutes : r->t.nendpoints;
    if (!num(arg, &want, NULL))
        failf(r, "%s: expected a number, got \"%s\"", what, arg);
    else if (want != got)
        failf(r, "expected %zu %s, got %zu", want, what, got);
}

static void open_table(struct run *r, const char *line)
{
    r->have_table = true;
    if (strcmp(line, "table default_s3") == 0) {
        route_table_default_s3(&r->t);
    } else if (strncmp(line, "table default_file ", 19) == 0) {
        route_table_default_file(&r->t, line + 19);
    } else {
        char *json = sibling(r->file, ".json");
        struct route_problems p;
        int rc = route_table_load(json, &r->t, &p);
        for (size_t i = 0; i < p.n; i++)
            print_error("  problem: %s\n", p.msgs[i]);
        route_problems_cleanup(&p);
        if (rc)
            fail_msg("%s: refused (%d), expected to load", json, rc);
        free(json);
    }
}

/* One directive; the line is modified. */
static void run_line(struct run *r, char *line)
{
    char *sp = strchr(line, ' ');
    if (!sp) {
        failf(r, "directive without arguments: \"%s\"", line);
        return;
    }
    *sp = '\0';
    char *args = sp + 1, *arrow = strstr(args, " -> "), *right = NULL;
    if (arrow) {
        *arrow = '\0';
        right = arrow + 4;
    }
    static const char *const arrowed[] = {"match", "reverse", "start_after", "nested", "route"};
    static const int counter[] = {C_MATCH, C_REVERSE, C_START, C_NESTED, C_TABLE};
    void (*const fns[])(struct run *, const char *, const char *) = {case_match, case_reverse,
                                                                     case_start, case_nested, NULL};
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(line, arrowed[i]) != 0)
            continue;
        counters[counter[i]]++;
        if (!right)
            failf(r, "%s without \" -> \"", line);
        else if (fns[i])
            fns[i](r, args, right);
        else
            case_route(r, args, right);
        return;
    }
    counters[C_TABLE]++;
    if (strcmp(line, "endpoint") == 0)
        case_endpoint(r, args);
    else if (strcmp(line, "routes") == 0 || strcmp(line, "endpoints") == 0)
        case_count(r, line, args);
    else
        failf(r, "unknown directive \"%s\"", line);
}

static void test_valid(void **state)
{
    struct run r = {.file = *state};
    char *text = slurp(r.file);
    assert_non_null(text);
    size_t ncases = 0;
    for (char *line = text, *next; line; line = next) {
        r.line++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        if (!n || line[0] == '#')
            continue;
        if (!r.have_table)
            open_table(&r, line);
        if (strncmp(line, "table ", 6) == 0)
            continue;
        run_line(&r, line);
        ncases++;
    }
    route_table_cleanup(&r.t);
    free(text);
    if (r.failures)
        fail_msg("%s: %zu of %zu cases failed (listed above)", r.file, r.failures, ncases);
    if (!ncases)
        fail_msg("%s: no cases", r.file);
}

/* ---- invalid files -------------------------------------------------------------------- */

static void dump(const struct route_problems *p)
{
    for (size_t i = 0; i < p->n; i++)
        print_error("  got problem %zu: %s\n", i + 1, p->msgs[i]);
}

static void test_invalid(void **state)
{
    const char *json = *state;
    char *expect_path = sibling(json, ".expect");
    char *expect = slurp(expect_path);
    if (!expect)
        fail_msg("%s: missing", expect_path);
    struct route_table t = {(void *)1, 1, (void *)1, 1};
    struct route_problems p;
    int rc = route_table_load(json, &t, &p);
    size_t failures = 0, want = SIZE_MAX;
    if (rc != SPOOR_E_CONFIG || t.routes || t.endpoints || t.nroutes || t.nendpoints) {
        print_error("%s: expected SPOOR_E_CONFIG and an empty table, got %d\n", json, rc);
        failures++;
    }
    for (size_t i = 0; i < p.n; i++) {
        size_t n = strlen(json);
        if (strncmp(p.msgs[i], json, n) != 0 || p.msgs[i][n] != ':' ||
            strstr(p.msgs[i], "sEcReT")) {
            print_error("%s: problem %zu does not start with the file or shows a secret\n", json,
                        i + 1);
            failures++;
        }
    }
    for (char *line = strtok(expect, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || !line[0])
            continue;
        if (strncmp(line, "problems ", 9) == 0 && num(line + 9, &want, NULL))
            continue;
        invalid_substrings++;
        bool found = false;
        for (size_t i = 0; i < p.n && !found; i++)
            found = strstr(p.msgs[i], line) != NULL;
        if (!found) {
            print_error("%s: no problem contains \"%s\"\n", expect_path, line);
            failures++;
        }
    }
    if (want == SIZE_MAX) {
        print_error("%s: no \"problems N\" line\n", expect_path);
        failures++;
    } else if (want != p.n) {
        print_error("%s: expected %zu problems, got %zu\n", expect_path, want, p.n);
        failures++;
    }
    if (failures)
        dump(&p);
    invalid_files++;
    route_problems_cleanup(&p);
    free(expect);
    free(expect_path);
    if (failures)
        fail_msg("%s: %zu failures (listed above)", json, failures);
}

/* ---- the rest ------------------------------------------------------------------------- */

/* Every data file has its partner: NAME.json + NAME.cases (or a .cases with a "table" line)
 * under valid/, NAME.json + NAME.expect under invalid/. */
static void test_partners(void **state)
{
    size_t n, failures = 0;
    const char *pairs[][3] = {{DATA "/valid", ".json", ".cases"},
                              {DATA "/invalid", ".json", ".expect"},
                              {DATA "/invalid", ".expect", ".json"}};
    for (size_t k = 0; k < 3; k++) {
        char **v = list_dir(pairs[k][0], pairs[k][1], &n);
        for (size_t i = 0; i < n; i++) {
            char *other = sibling(v[i], pairs[k][2]);
            if (!exists(other)) {
                print_error("%s has no %s\n", v[i], pairs[k][2]);
                failures++;
            }
            free(other);
        }
        free_list(v, n);
    }
    char **v = list_dir(DATA "/valid", ".cases", &n);
    for (size_t i = 0; i < n; i++) {
        char *json = sibling(v[i], ".json"), *text = slurp(v[i]);
        if (!exists(json) && !strstr(text, "\ntable ") && strncmp(text, "table ", 6) != 0) {
            print_error("%s has neither a .json nor a \"table\" line\n", v[i]);
            failures++;
        }
        free(json);
        free(text);
    }
    free_list(v, n);
    assert_int_equal(failures, 0);
}

static void test_load_missing_file(void **state)
{
    struct route_table t;
    struct route_problems p;
    assert_int_equal(route_table_load(DATA "/no-such-file.json", &t, &p), SPOOR_E_CONFIG);
    assert_int_equal(p.n, 1);
    assert_non_null(strstr(p.msgs[0], "no-such-file.json: cannot open: "));
    assert_null(t.routes);
    route_problems_cleanup(&p);
    route_problems_cleanup(&p); /* idempotent */
    assert_int_equal(p.n, 0);
}

static const char spec_json[] =
    "{\"endpoints\": {\"aws\": {\"type\": \"s3\"}, \"lake\": {\"type\": \"lakefs\"}},\n"
    " \"routes\": [{\"from\": \"s3://b/data/alpha/\", \"to\": \"lake://alpha/main/\"},\n"
    "            {\"from\": \"s3://b/data/beta/\", \"to\": \"lake://beta/main/\"},\n"
    "            {\"from\": \"s3://*/\", \"to\": \"aws://*/\"}]}";

static void test_parse_from_memory(void **state)
{
    struct route_table t;
    struct route_problems p;
    assert_int_equal(route_table_parse(spec_json, strlen(spec_json), "mem", &t, &p), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(t.nroutes, 3);
    /* Outside its from_prefix a key has no forward translation; describe defaults to it. */
    assert_null(route_key_forward(&t.routes[0], "data/beta/x"));
    char *d = route_describe_target(&t, &t.routes[0], "b", NULL);
    assert_string_equal(d, "lake://alpha/main/");
    free(d);
    /* route_nested counts past its capacity. */
    const struct route *one[1];
    assert_int_equal(route_nested(&t, "b", "data/", t.routes + 2, one, 1), 2);
    assert_ptr_equal(one[0], &t.routes[0]);
    assert_int_equal(route_nested(&t, "b", "", t.routes + 2, NULL, 0), 2);
    route_table_cleanup(&t);
    route_table_cleanup(&t);
    /* A syntax error is one problem naming line and column. */
    const char bad[] = "{\"routes\": [\n  {\"from\": \"s3://*/\" \"to\": 1}]}";
    assert_int_equal(route_table_parse(bad, strlen(bad), "mem", &t, &p), SPOOR_E_CONFIG);
    assert_int_equal(p.n, 1);
    assert_non_null(strstr(p.msgs[0], "mem:2:"));
    route_problems_cleanup(&p);
}

static int group_teardown(void **state)
{
    print_message("route cases run:");
    for (size_t i = 0; i < C_NCOUNTERS; i++)
        print_message(" %s %zu;", counter_names[i], counters[i]);
    print_message(" invalid files %zu with %zu expected substrings\n", invalid_files,
                  invalid_substrings);
    return 0;
}

int main(void)
{
    size_t nv, ni;
    char **valid = list_dir(DATA "/valid", ".cases", &nv);
    char **invalid = list_dir(DATA "/invalid", ".json", &ni);
    struct CMUnitTest *tests = calloc(nv + ni + 3, sizeof *tests);
    assert_non_null(tests);
    size_t n = 0, skip = strlen(DATA) + 1;
    tests[n++] = (struct CMUnitTest){"data files have partners", test_partners, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"load missing file", test_load_missing_file, NULL, NULL, NULL};
    tests[n++] = (struct CMUnitTest){"parse from memory", test_parse_from_memory, NULL, NULL, NULL};
    for (size_t i = 0; i < nv; i++)
        tests[n++] = (struct CMUnitTest){valid[i] + skip, test_valid, NULL, NULL, valid[i]};
    for (size_t i = 0; i < ni; i++)
        tests[n++] = (struct CMUnitTest){invalid[i] + skip, test_invalid, NULL, NULL, invalid[i]};
    int rc = _cmocka_run_group_tests("route", tests, n, NULL, group_teardown);
    free(tests);
    free_list(valid, nv);
    free_list(invalid, ni);
    return rc;
}
