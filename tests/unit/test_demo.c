/*
 * test_demo.c: the demo applications (tracker/demo.c) as a user of the demo data sees them:
 * seeded into Burr's local layout and into a local bucket store (S3 layout), then read back
 * file by file and object by object. Counter apps have N + 1 steps of begin/end entries ending
 * at counter == N; graph.json has Burr's ApplicationModel shape; the chatbot's spans nest,
 * its streams and attributes are there, its failing step has a traceback and a null result,
 * and its spawned child points at its parent (and, locally, the parent lists the child).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/files.h"

#include <spoor/tracker.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "demo.h"
#include "filestore.h"
#include "util.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/spoor-demo-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- reading logs back ----------------------------------------------------------------- */

/* Appends each line of text (lines split on '\n', empty ones skipped) to events, parsed. */
static void parse_lines(json_t *events, const char *text)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        if (n > 0) {
            json_error_t jerr;
            json_t *e = json_loadb(text, n, 0, &jerr);
            if (!e)
                fail_msg("bad log line: %s: %.*s", jerr.text, (int)n, text);
            json_array_append_new(events, e);
        }
        text += n + (text[n] == '\n');
    }
}

static char *local_file(const char *root, const char *project, const char *app, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s/%s", root, project, app, name);
    char *s = slurp(path);
    if (!s)
        fail_msg("missing %s", path);
    return s;
}

static json_t *local_log(const char *root, const char *project, const char *app)
{
    char *text = local_file(root, project, app, "log.jsonl");
    assert_true(text[0] && text[strlen(text) - 1] == '\n'); /* every line ends, in Burr's file */
    json_t *events = json_array();
    parse_lines(events, text);
    free(text);
    return events;
}

static const char *str_of(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

static const char *str_at(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long int_at(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return (long long)json_integer_value(v);
}

static bool is_type(const json_t *e, const char *type)
{
    return strcmp(str_at(e, "type"), type) == 0;
}

/* ---- what the applications wrote ------------------------------------------------------- */

/* N counter steps then result: 2 (N + 1) entries, begin/end pairs, final counter N. */
static void check_counter(const json_t *events, int n)
{
    assert_int_equal(json_array_size(events), 2 * (n + 1));
    for (int i = 0; i <= n; i++) {
        const json_t *b = json_array_get(events, 2 * i), *e = json_array_get(events, 2 * i + 1);
        const char *action = i < n ? "counter" : "result";
        assert_true(is_type(b, "begin_entry"));
        assert_true(is_type(e, "end_entry"));
        assert_int_equal(int_at(b, "sequence_id"), i);
        assert_int_equal(int_at(e, "sequence_id"), i);
        assert_string_equal(str_at(b, "action"), action);
        assert_string_equal(str_at(e, "action"), action);
        assert_true(json_is_null(json_object_get(e, "exception")));
        const json_t *st = json_object_get(e, "state");
        assert_int_equal(int_at(st, "counter"), i < n ? i + 1 : n);
        assert_int_equal(int_at(st, "count_to"), n);
        assert_int_equal(int_at(st, "__SEQUENCE_ID"), i);
        assert_string_equal(str_at(st, "__PRIOR_STEP"), action);
    }
    const json_t *last = json_array_get(events, 2 * n + 1);
    assert_int_equal(int_at(json_object_get(last, "result"), "counter"), n);
}

static void check_counter_graph(const char *text)
{
    json_t *g = json_loads(text, 0, NULL);
    assert_non_null(g);
    assert_string_equal(str_at(g, "type"), "application");
    assert_string_equal(str_at(g, "entrypoint"), "counter");
    json_t *actions = json_object_get(g, "actions"), *tr = json_object_get(g, "transitions");
    assert_int_equal(json_array_size(actions), 2);
    json_t *counter = json_array_get(actions, 0), *result = json_array_get(actions, 1);
    assert_string_equal(str_at(counter, "type"), "action");
    assert_string_equal(str_at(counter, "name"), "counter");
    assert_string_equal(str_of(json_array_get(json_object_get(counter, "reads"), 0)), "counter");
    assert_string_equal(str_of(json_array_get(json_object_get(counter, "writes"), 0)), "counter");
    assert_non_null(strstr(str_at(counter, "code"), "s->counter++;"));
    assert_int_equal(json_array_size(json_object_get(counter, "inputs")), 0);
    assert_int_equal(json_array_size(json_object_get(counter, "optional_inputs")), 0);
    assert_string_equal(str_at(result, "name"), "result");
    assert_int_equal(json_array_size(json_object_get(result, "writes")), 0);
    assert_int_equal(json_array_size(tr), 2);
    const char *want[2][3] = {{"counter", "counter", "counter < count_to"},
                              {"counter", "result", "default"}};
    for (size_t i = 0; i < 2; i++) {
        json_t *t = json_array_get(tr, i);
        assert_string_equal(str_at(t, "type"), "transition");
        assert_string_equal(str_at(t, "from_"), want[i][0]);
        assert_string_equal(str_at(t, "to"), want[i][1]);
        assert_string_equal(str_at(t, "condition"), want[i][2]);
    }
    json_decref(g);
}

/* Every span's parent is open when it begins, its id extends the parent's, and it ends. */
static void check_spans(const json_t *events)
{
    json_t *open = json_object();
    size_t i, begun = 0, deep = 0;
    for (i = 0; i < json_array_size(events); i++) {
        const json_t *e = json_array_get(events, i);
        const char *id = str_at(e, "span_id");
        if (is_type(e, "begin_span")) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "%lld:", int_at(e, "action_sequence_id"));
            assert_true(str_has_prefix(id, prefix));
            const json_t *parent = json_object_get(e, "parent_span_id");
            if (!json_is_null(parent)) {
                const char *p = json_string_value(parent);
                assert_non_null(json_object_get(open, p));
                assert_true(str_has_prefix(id, p) && id[strlen(p)] == '.');
            }
            deep += strchr(strchr(id, '.') ? strchr(id, '.') + 1 : "", '.') != NULL;
            json_object_set_new(open, id, json_true());
            begun++;
        } else if (is_type(e, "end_span")) {
            assert_non_null(json_object_get(open, id));
            json_object_del(open, id);
        }
    }
    assert_true(begun > 0);
    assert_true(deep > 0); /* "<seq>:0.1.0" */
    assert_int_equal(json_object_size(open), 0);
    json_decref(open);
}

/* The first event of type in step seq (or NULL), and how many there are. */
static const json_t *find(const json_t *events, const char *type, long long seq, size_t *count)
{
    const json_t *first = NULL;
    size_t i, n = 0;
    for (i = 0; i < json_array_size(events); i++) {
        const json_t *e = json_array_get(events, i);
        const char *seq_key =
            json_object_get(e, "sequence_id") ? "sequence_id" : "action_sequence_id";
        if (is_type(e, type) && int_at(e, seq_key) == seq) {
            first = first ? first : e;
            n++;
        }
    }
    if (count)
        *count = n;
    return first;
}

static const json_t *find_attr(const json_t *events, long long seq, const char *key)
{
    size_t i;
    for (i = 0; i < json_array_size(events); i++) {
        const json_t *e = json_array_get(events, i);
        if (is_type(e, "attribute") && int_at(e, "action_sequence_id") == seq &&
            strcmp(str_at(e, "key"), key) == 0)
            return e;
    }
    return NULL;
}

/* chat-1-giraffe: steps 0-4, 5-9, 10-14; generate_answer at 3, 8, 13. */
static void check_giraffe(const json_t *ev)
{
    check_spans(ev);
    const json_t *query = NULL;
    size_t i, n;
    for (i = 0; i < json_array_size(ev); i++) {
        const json_t *e = json_array_get(ev, i);
        if (is_type(e, "begin_span") && strcmp(str_at(e, "span_id"), "2:0.1") == 0)
            query = e;
    }
    assert_non_null(query);
    assert_string_equal(str_at(query, "parent_span_id"), "2:0");
    assert_string_equal(str_of(json_array_get(json_object_get(query, "span_dependencies"), 0)),
                        "2:0.0");
    const json_t *model = find_attr(ev, 3, "model");
    assert_non_null(model);
    assert_true(json_is_null(json_object_get(model, "span_id"))); /* on the step */
    assert_string_equal(str_at(model, "value"), "demo-chat-1");
    const json_t *tokens = find_attr(ev, 13, "completion_tokens");
    assert_string_equal(str_at(tokens, "span_id"), "13:0.1");
    assert_int_equal(int_at(tokens, "value"), 9);
    assert_non_null(find_attr(ev, 13, "prompt_tokens"));
    assert_non_null(find(ev, "begin_stream", 13, &n));
    assert_int_equal(n, 1);
    assert_non_null(find(ev, "first_item_stream", 13, &n));
    assert_int_equal(n, 1);
    const json_t *end = find(ev, "end_stream", 13, &n);
    assert_int_equal(n, 1);
    assert_int_equal(int_at(end, "items_streamed"), 9); /* "An adult giraffe is 4.3 to ..." */
    const json_t *step = find(ev, "end_entry", 13, NULL);
    assert_string_equal(str_at(step, "action"), "generate_answer");
    assert_string_equal(
        str_at(json_object_get(json_object_get(step, "result"), "response"), "content"),
        "An adult giraffe is 4.3 to 5.7 metres tall.");
    assert_non_null(find(ev, "begin_entry", 14, NULL));
    assert_null(find(ev, "begin_entry", 15, NULL));
}

/* chat-6: the second turn's decide_mode (step 7) fails and the application stops. */
static void check_failure(const json_t *ev)
{
    const json_t *last = json_array_get(ev, json_array_size(ev) - 1);
    assert_true(is_type(last, "end_entry"));
    assert_int_equal(int_at(last, "sequence_id"), 7);
    assert_string_equal(str_at(last, "action"), "decide_mode");
    assert_true(json_is_null(json_object_get(last, "result")));
    const char *exc = str_at(last, "exception");
    assert_true(str_has_prefix(exc, "Traceback (most recent call last):\n"));
    assert_non_null(strstr(exc, "AuthenticationError"));
    const json_t *st = json_object_get(last, "state");
    assert_int_equal(int_at(st, "__SEQUENCE_ID"), 7);
    assert_string_equal(str_at(st, "__PRIOR_STEP"), "check_safety");
    assert_null(find(ev, "begin_entry", 8, NULL));
    check_spans(ev);
}

static void check_child_metadata(const json_t *md)
{
    const json_t *p = json_object_get(md, "spawning_parent_pointer");
    assert_string_equal(str_at(p, "type"), "pointer_data");
    assert_string_equal(str_at(p, "app_id"), "chat-3-physics");
    assert_int_equal(int_at(p, "sequence_id"), 3); /* the parent's generate_answer step */
    assert_true(json_is_null(json_object_get(md, "parent_pointer")));
}

/* ---- Burr's local layout --------------------------------------------------------------- */

static void test_local_layout(void **state)
{
    (void)state;
    char root[300];
    snprintf(root, sizeof root, "%s/burr", dir);
    struct spoor_demo_target tg = {.local_root = root};
    struct spoor_error err;
    assert_int_equal(spoor_demo_seed(&tg, NULL, &err), 0);

    const int counts[3] = {1, 10, 42};
    for (int i = 0; i < 3; i++) {
        char app[32];
        snprintf(app, sizeof app, "count-to-%d", counts[i]);
        json_t *ev = local_log(root, "demo_counter", app);
        check_counter(ev, counts[i]);
        json_decref(ev);
        char *md = local_file(root, "demo_counter", app, "metadata.json");
        assert_string_equal(md, "{\"type\": \"application_metadata\", \"partition_key\": "
                                "\"user_0\", \"parent_pointer\": null, "
                                "\"spawning_parent_pointer\": null}");
        free(md);
    }
    char *g = local_file(root, "demo_counter", "count-to-42", "graph.json");
    assert_true(str_has_prefix(g, "{\"type\": \"application\", \"entrypoint\": \"counter\", "
                                  "\"actions\": [{\"type\": \"action\", \"name\": \"counter\", "));
    check_counter_graph(g);
    free(g);

    json_t *ev = local_log(root, "demo_chatbot", "chat-1-giraffe");
    check_giraffe(ev);
    json_decref(ev);
    ev = local_log(root, "demo_chatbot", "chat-6-demonstrate-errors");
    check_failure(ev);
    json_decref(ev);

    char *md = local_file(root, "demo_chatbot", "chat-3-physics-units", "metadata.json");
    json_t *m = json_loads(md, 0, NULL);
    check_child_metadata(m);
    json_decref(m);
    free(md);
    char *children = local_file(root, "demo_chatbot", "chat-3-physics", "children.jsonl");
    json_t *lines = json_array();
    parse_lines(lines, children);
    assert_int_equal(json_array_size(lines), 1);
    json_t *c = json_array_get(lines, 0);
    assert_string_equal(str_at(c, "type"), "child_application_data");
    assert_string_equal(str_at(c, "event_type"), "spawn_start");
    assert_int_equal(int_at(c, "sequence_id"), 3);
    assert_string_equal(str_at(json_object_get(c, "child"), "app_id"), "chat-3-physics-units");
    json_decref(lines);
    free(children);

    /* A second run leaves what is there alone: no second copy appended. */
    assert_int_equal(spoor_demo_seed(&tg, NULL, &err), 0);
    ev = local_log(root, "demo_counter", "count-to-42");
    assert_int_equal(json_array_size(ev), 86);
    json_decref(ev);
}

/* ---- the S3 layout in a local bucket store --------------------------------------------- */

struct store {
    struct filestore *fs;
    const char *bucket;
    json_t *keys; /* every key under data/, in key order */
};

static void store_open(struct store *s, const char *root, const char *bucket)
{
    struct spoor_error err;
    s->fs = filestore_new(NULL, root, "local", &err);
    assert_non_null(s->fs);
    s->bucket = bucket;
    s->keys = json_array();
    char *token = NULL;
    do {
        struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                                 .bucket = bucket,
                                 .prefix = "data/",
                                 .continuation_token = token};
        struct spoor_s3_result res;
        assert_int_equal(filestore_exec(s->fs, &op, &res, &err), 0);
        free(token);
        token = res.list.next_continuation_token;
        res.list.next_continuation_token = NULL;
        for (size_t i = 0; i < res.list.nobjects; i++)
            json_array_append_new(s->keys, json_string(res.list.objects[i].key));
        spoor_s3_result_cleanup(&res);
    } while (token);
}

static void store_close(struct store *s)
{
    filestore_free(s->fs);
    json_decref(s->keys);
}

static char *store_get(const struct store *s, const char *key, char *meta_name, char **meta)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_GET_OBJECT, .bucket = s->bucket, .key = key};
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(filestore_exec(s->fs, &op, &res, &err), 0);
    if (meta)
        *meta = xstrdup_or_null(spoor_s3_result_meta(&res, meta_name));
    char *body = xstrdup(res.body ? res.body : "");
    spoor_s3_result_cleanup(&res);
    return body;
}

/* Keys of an application's files: data/<project>/Y/M/D/H/MM:SS.f/<pk>/<app>/<name>. */
static size_t app_keys(const struct store *s, const char *project, const char *pk, const char *app,
                       const char *suffix, const char **out, size_t max)
{
    size_t i, n = 0;
    for (i = 0; i < json_array_size(s->keys); i++) {
        const json_t *k = json_array_get(s->keys, i);
        const char *key = json_string_value(k);
        char copy[1024], *parts[12], *save = NULL;
        size_t np = 0;
        str_copy(copy, sizeof copy, key);
        for (char *p = strtok_r(copy, "/", &save); p && np < 12; p = strtok_r(NULL, "/", &save))
            parts[np++] = p;
        assert_int_equal(np, 10);
        assert_string_equal(parts[0], "data");
        assert_int_equal(strlen(parts[2]), 4);
        assert_non_null(strchr(parts[6], ':'));
        if (strcmp(parts[1], project) == 0 && strcmp(parts[7], pk) == 0 &&
            strcmp(parts[8], app) == 0 && str_has_suffix(parts[9], suffix) && n < max)
            out[n++] = key;
    }
    return n;
}

/* An application's log objects in key order, parsed; *nobjects of them. */
static json_t *store_log(const struct store *s, const char *project, const char *pk,
                         const char *app, size_t *nobjects)
{
    const char *keys[64];
    size_t n = app_keys(s, project, pk, app, "__log.jsonl", keys, 64);
    assert_true(n > 0);
    json_t *events = json_array();
    for (size_t i = 0; i < n; i++) {
        char *body = store_get(s, keys[i], NULL, NULL);
        assert_true(body[0] && body[strlen(body) - 1] != '\n'); /* Burr's S3 objects: none */
        parse_lines(events, body);
        free(body);
    }
    if (nobjects)
        *nobjects = n;
    return events;
}

static char *store_one(const struct store *s, const char *project, const char *pk, const char *app,
                       const char *name, char *meta_name, char **meta)
{
    const char *keys[4];
    assert_int_equal(app_keys(s, project, pk, app, name, keys, 4), 1);
    return store_get(s, keys[0], meta_name, meta);
}

static void test_store_layout(void **state)
{
    (void)state;
    char root[300], spool[300];
    snprintf(root, sizeof root, "%s/objects", dir);
    snprintf(spool, sizeof spool, "%s/spool", dir);
    struct spoor_demo_target tg = {.store_root = root, .bucket = "demo-bkt", .spool_dir = spool};
    struct spoor_error err;
    assert_int_equal(spoor_demo_seed(&tg, NULL, &err), 0);
    struct store s;
    store_open(&s, root, "demo-bkt");

    json_t *ev = store_log(&s, "demo_counter", "user_0", "count-to-42", NULL);
    check_counter(ev, 42);
    json_decref(ev);
    ev = store_log(&s, "demo_counter", "user_0", "count-to-1", NULL);
    check_counter(ev, 1);
    json_decref(ev);
    char *g = store_one(&s, "demo_counter", "user_0", "count-to-10", "graph.json", NULL, NULL);
    assert_true(str_has_prefix(g,
                               "{\"type\":\"application\",\"entrypoint\":\"counter\",\"actions\":"
                               "[{\"type\":\"action\",\"name\":\"counter\",\"reads\":"
                               "[\"counter\"],\"writes\":[\"counter\"],\"code\":"));
    check_counter_graph(g);
    free(g);
    char *md = store_one(&s, "demo_counter", "user_0", "count-to-10", "metadata.json", NULL, NULL);
    assert_string_equal(md, "{\"type\":\"application_metadata\",\"partition_key\":\"user_0\","
                            "\"parent_pointer\":null,\"spawning_parent_pointer\":null}");
    free(md);

    size_t nobjects;
    ev = store_log(&s, "demo_chatbot", "__none__", "chat-1-giraffe", &nobjects);
    assert_int_equal(nobjects, 3); /* one object per turn */
    check_giraffe(ev);
    json_decref(ev);
    ev = store_log(&s, "demo_chatbot", "__none__", "chat-6-demonstrate-errors", NULL);
    check_failure(ev);
    json_decref(ev);

    char *pointer = NULL;
    md = store_one(&s, "demo_chatbot", "__none__", "chat-3-physics-units", "metadata.json",
                   "spawning_parent_pointer", &pointer);
    json_t *m = json_loads(md, 0, NULL);
    check_child_metadata(m);
    assert_string_equal(pointer, "{\"app_id\": \"chat-3-physics\", \"partition_key\": null, "
                                 "\"sequence_id\": 3}");
    json_decref(m);
    free(md);
    free(pointer);
    store_close(&s);

    char path[400];
    snprintf(path, sizeof path, "%s/demo_chatbot", spool);
    assert_int_equal(rmdir(path), 0); /* everything went out: the spool is empty */
}

/* ---- the chatbot on other prompts, and refusals ---------------------------------------- */

static void test_custom_conversation(void **state)
{
    (void)state;
    char root[300];
    snprintf(root, sizeof root, "%s/custom", dir);
    struct spoor_tracker_opts o = {.project = "chats", .local_root = root};
    struct spoor_tracker *t;
    struct spoor_error err;
    assert_int_equal(spoor_tracker_new(&o, &t, &err), 0);
    assert_int_equal(spoor_demo_counter_run(t, "c", NULL, NULL, 0, 0, &err), SPOOR_E_INVALID);
    assert_int_equal(spoor_demo_counter_run(t, "bad/id", NULL, NULL, 2, 0, &err), SPOOR_E_INVALID);
    /* a counter forked from another at step 1: its metadata has the parent pointer, and the
     * parent's children.jsonl the fork */
    const struct spoor_pointer from = {"count-base", NULL, 1, true};
    assert_int_equal(spoor_demo_counter_run(t, "count-base", NULL, NULL, 2, 0, &err), 0);
    assert_int_equal(spoor_demo_counter_run(t, "count-fork", NULL, &from, 2, 0, &err), 0);
    const struct spoor_demo_turn turns[] = {{"Hello there", NULL}, {"Say something unsafe", NULL}};
    const struct spoor_demo_chat chat = {"chat-x", turns, 2, -1, NULL};
    assert_int_equal(spoor_demo_chat_run(t, &chat, "user_9", NULL, 0, &err), 0);
    assert_int_equal(spoor_tracker_free(t, 10000), 0);

    char *md = local_file(root, "chats", "count-fork", "metadata.json");
    json_t *m = json_loads(md, 0, NULL);
    json_t *parent = json_object_get(m, "parent_pointer");
    assert_string_equal(str_at(parent, "app_id"), "count-base");
    assert_int_equal(int_at(parent, "sequence_id"), 1);
    assert_true(json_is_null(json_object_get(m, "spawning_parent_pointer")));
    json_decref(m);
    free(md);
    char *children = local_file(root, "chats", "count-base", "children.jsonl");
    assert_non_null(strstr(children, "\"event_type\":\"fork\",\"sequence_id\":1"));
    free(children);

    json_t *ev = local_log(root, "chats", "chat-x");
    const char *want[] = {"prompt",   "check_safety", "decide_mode",  "generate_answer",
                          "response", "prompt",       "check_safety", "response"};
    size_t i, n = 0;
    for (i = 0; i < json_array_size(ev); i++) {
        const json_t *e = json_array_get(ev, i);
        if (is_type(e, "begin_entry")) {
            assert_true(n < 8);
            assert_int_equal(int_at(e, "sequence_id"), n);
            assert_string_equal(str_at(e, "action"), want[n++]);
        }
    }
    assert_int_equal(n, 8);
    const json_t *mode = find(ev, "end_entry", 2, NULL);
    assert_string_equal(str_at(json_object_get(mode, "result"), "mode"), "unknown");
    const json_t *answer = find(ev, "end_entry", 3, NULL);
    assert_string_equal(
        str_at(json_object_get(json_object_get(answer, "result"), "response"), "content"),
        "This demo model has no answer for that yet.");
    const json_t *refusal = find(ev, "end_entry", 7, NULL);
    const json_t *item = json_object_get(json_object_get(refusal, "result"), "chat_item");
    assert_string_equal(str_at(item, "type"), "error");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(refusal, "state"), "chat_history")), 4);
    check_spans(ev);
    json_decref(ev);

    struct spoor_demo_target none = {0}, both = {.local_root = root, .bucket = "b"};
    assert_int_equal(spoor_demo_seed(&none, NULL, &err), SPOOR_E_CONFIG);
    assert_int_equal(spoor_demo_seed(&both, NULL, &err), SPOOR_E_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_layout),
        cmocka_unit_test(test_store_layout),
        cmocka_unit_test(test_custom_conversation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
