/*
 * demo.c: the demo applications of demo.h (a counter and a chatbot) and the seeding of Burr's
 * demo projects, on the public tracker API only: spoor_app_new, the hooks, spoor_tracker_flush
 * and spoor_tracker_free. It is application code that happens to live in the library so that
 * `spoor demo`, the examples and the tests run the same state machines; nothing in the
 * tracker depends on it.
 *
 * What it is not: a Burr runtime. Each application is a loop over its actions with the
 * transitions written out in C; the graph.json it announces describes that loop in Burr's
 * ApplicationModel shape, and the code strings are the C of the actions (the counter's are
 * the functions below, verbatim).
 *
 * Invariants: a step's events lie between its begin_entry and its end_entry; a span's parent
 * is begun before it and ended after it (ids "<seq>:<i>[.<j>...]"); sequence ids count up
 * from 0 per application; the state carries
 * __SEQUENCE_ID and __PRIOR_STEP as Burr's State does (a failed step moves __SEQUENCE_ID but
 * not __PRIOR_STEP). Nothing random and no clock in the content.
 */
#include "demo.h"

#include <spoor/router.h>

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FLUSH_TIMEOUT_MS 60000
#define MODEL "demo-chat-1"
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

static void pause_ms(int ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- graphs ---------------------------------------------------------------------------- */

struct action_def {
    const char *name;
    const char *reads, *writes, *inputs, *optional_inputs; /* comma-separated; "" for none */
    const char *code;
};

struct transition_def {
    const char *from, *to, *condition;
};

static json_t *name_list(const char *csv)
{
    json_t *a = json_array();
    while (a && *csv) {
        size_t n = strcspn(csv, ",");
        json_array_append_new(a, json_stringn(csv, n));
        csv += n + (csv[n] == ',');
    }
    return a;
}

/* Burr's ApplicationModel, fields in its declaration order (new, or NULL out of memory). */
static char *graph_json(const char *entrypoint, const struct action_def *a, size_t na,
                        const struct transition_def *t, size_t nt)
{
    json_t *actions = json_array(), *transitions = json_array();
    for (size_t i = 0; i < na; i++)
        json_array_append_new(actions,
                              json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o}", "type", "action",
                                        "name", a[i].name, "reads", name_list(a[i].reads), "writes",
                                        name_list(a[i].writes), "code", a[i].code, "inputs",
                                        name_list(a[i].inputs), "optional_inputs",
                                        name_list(a[i].optional_inputs)));
    for (size_t i = 0; i < nt; i++)
        json_array_append_new(transitions,
                              json_pack("{s:s, s:s, s:s, s:s}", "type", "transition", "from_",
                                        t[i].from, "to", t[i].to, "condition", t[i].condition));
    json_t *g = json_pack("{s:s, s:s, s:o, s:o}", "type", "application", "entrypoint", entrypoint,
                          "actions", actions, "transitions", transitions);
    char *s = g ? json_dumps(g, JSON_FLAGS) : NULL;
    json_decref(g);
    return s;
}

/* ---- the counter ----------------------------------------------------------------------- */

struct counter_state {
    int count_to;
    int counter;
};

static void counter_action(struct counter_state *s)
{
    s->counter++;
}

static void result_action(const struct counter_state *s, char *out, size_t size)
{
    snprintf(out, size, "{\"counter\":%d}", s->counter);
}

static const struct action_def counter_actions[] = {
    {"counter", "counter", "counter", "", "",
     "static void counter_action(struct counter_state *s)\n{\n    s->counter++;\n}\n"},
    {"result", "counter", "", "", "",
     "static void result_action(const struct counter_state *s, char *out, size_t size)\n{\n"
     "    snprintf(out, size, \"{\\\"counter\\\":%d}\", s->counter);\n}\n"},
};

static const struct transition_def counter_transitions[] = {
    {"counter", "counter", "counter < count_to"},
    {"counter", "result", "default"},
};

char *spoor_demo_counter_graph(void)
{
    return graph_json("counter", counter_actions, 2, counter_transitions, 2);
}

static int refused(struct spoor_error *err, int rc, const char *app_id, int64_t seq,
                   const char *what)
{
    if (rc == 0)
        return 0;
    return spoor_error_set(err, rc, "demo app %s, step %lld: the tracker refused %s: %s", app_id,
                           (long long)seq, what, spoor_strerror(rc));
}

static int counter_step(struct spoor_app *a, const char *app_id, int64_t seq, const char *action,
                        struct counter_state *s, int delay_ms, struct spoor_error *err)
{
    int rc = refused(err, spoor_step_begin(a, seq, action, "{}"), app_id, seq, "step_begin");
    if (rc)
        return rc;
    pause_ms(delay_ms);
    char result[64] = "{}", state[256];
    if (strcmp(action, "counter") == 0)
        counter_action(s);
    else
        result_action(s, result, sizeof result);
    snprintf(state, sizeof state,
             "{\"count_to\":%d,\"counter\":%d,\"__SEQUENCE_ID\":%lld,\"__PRIOR_STEP\":\"%s\"}",
             s->count_to, s->counter, (long long)seq, action);
    return refused(err, spoor_step_end(a, seq, action, result, state, NULL), app_id, seq,
                   "step_end");
}

int spoor_demo_counter_run(struct spoor_tracker *t, const char *app_id, const char *partition_key,
                           const struct spoor_pointer *forked_from, int count_to, int delay_ms,
                           struct spoor_error *err)
{
    if (count_to < 1 || count_to > 1000000)
        return spoor_error_set(err, SPOOR_E_INVALID, "count_to %d is not in 1..1000000", count_to);
    char *graph = spoor_demo_counter_graph();
    if (!graph)
        return spoor_error_set(err, -ENOMEM, "demo app %s: out of memory", app_id);
    struct spoor_app *a = NULL;
    int rc = spoor_app_new(t, app_id, partition_key, graph, forked_from, NULL, &a, err);
    free(graph);
    struct counter_state s = {count_to, 0};
    const char *action = "counter"; /* the entrypoint */
    for (int64_t seq = 0; rc == 0 && action; seq++) {
        rc = counter_step(a, app_id, seq, action, &s, delay_ms, err);
        /* The transitions, in order: counter -> counter when counter < count_to, counter ->
         * result by default; result has none, so the application halts after it. */
        if (strcmp(action, "counter") == 0)
            action = s.counter < s.count_to ? "counter" : "result";
        else
            action = NULL;
    }
    return rc;
}

/* ---- the chatbot ----------------------------------------------------------------------- */

static const struct action_def chat_actions[] = {
    {"prompt", "", "chat_history,prompt", "prompt", "",
     "static json_t *prompt(json_t *state, const char *prompt)\n{\n"
     "    state_wipe(state, \"chat_history,prompt\");\n"
     "    json_array_append(history(state), chat_item(\"user\", prompt, \"text\"));\n"
     "    return state_update(state, \"prompt\", json_string(prompt));\n}\n"},
    {"check_safety", "prompt", "safe", "", "",
     "static bool check_safety(const char *prompt)\n{\n"
     "    return strstr(prompt, \"unsafe\") == NULL;\n}\n"},
    {"decide_mode", "prompt", "mode", "", "",
     "static const char *decide_mode(const char *prompt)\n{\n"
     "    /* answer_question, generate_image, generate_code or unknown */\n"
     "    return query_model(MODEL, mode_prompt(prompt));\n}\n"},
    {"generate_answer", "prompt,chat_history,mode", "response", "", "model",
     "static json_t *generate_answer(json_t *history, const char *mode, const char *model)\n{\n"
     "    /* the model's answer, streamed one word at a time */\n"
     "    return stream_model(model, history, mode);\n}\n"},
    {"response", "response,mode,safe", "chat_history", "", "",
     "static json_t *response(bool safe, json_t *response)\n{\n"
     "    return safe ? response\n"
     "                : chat_item(\"assistant\", \"I'm sorry, I can't respond to that.\", "
     "\"error\");\n}\n"},
};

static const struct transition_def chat_transitions[] = {
    {"prompt", "check_safety", "default"},      {"check_safety", "decide_mode", "safe=True"},
    {"check_safety", "response", "default"},    {"decide_mode", "generate_answer", "default"},
    {"generate_answer", "response", "default"}, {"response", "prompt", "default"},
};

char *spoor_demo_chatbot_graph(void)
{
    return graph_json("prompt", chat_actions, 5, chat_transitions, 6);
}

static const char failure_traceback[] =
    "Traceback (most recent call last):\n"
    "  File \"chatbot\", in decide_mode\n"
    "    reply = query_model(\"" MODEL "\", messages)\n"
    "  File \"chatbot\", in query_model\n"
    "    return http_post(\"/v1/chat/completions\", body)\n"
    "AuthenticationError: Error code: 401 - Incorrect API key provided: fake. (This step fails "
    "on purpose, to show what a failed step looks like.)\n";

static const char stock_answer[] = "This demo model has no answer for that yet.";

/* One running conversation. */
struct chat {
    struct spoor_tracker *t;
    struct spoor_app *app;
    const char *app_id;
    const char *pk;
    int64_t seq; /* of the step under way */
    json_t *state;
    int delay_ms;
    struct spoor_error *err;
};

static int chat_refused(struct chat *c, int rc, const char *what)
{
    return refused(c->err, rc, c->app_id, c->seq, what);
}

/* Span ids are "<seq>:<path>"; a path's parent is the path up to its last '.'. */
static void span_id(const struct chat *c, const char *path, size_t len, char out[64])
{
    snprintf(out, 64, "%lld:%.*s", (long long)c->seq, (int)len, path);
}

static int span_begin(struct chat *c, const char *path, const char *name, const char *dep_path)
{
    char id[64], parent[64], dep[64];
    const char *last = strrchr(path, '.');
    span_id(c, path, strlen(path), id);
    if (last)
        span_id(c, path, (size_t)(last - path), parent);
    if (dep_path)
        span_id(c, dep_path, strlen(dep_path), dep);
    const char *deps[1] = {dep};
    return chat_refused(
        c, spoor_span_begin(c->app, c->seq, id, name, last ? parent : NULL, deps, dep_path ? 1 : 0),
        "span_begin");
}

static int span_end(struct chat *c, const char *path)
{
    char id[64];
    span_id(c, path, strlen(path), id);
    return chat_refused(c, spoor_span_end(c->app, c->seq, id), "span_end");
}

/* An attribute (value stolen) on the span at path, or on the step when path is NULL. */
static int attr(struct chat *c, const char *path, const char *key, json_t *value)
{
    char id[64];
    if (path)
        span_id(c, path, strlen(path), id);
    char *v = value ? json_dumps(value, JSON_FLAGS) : NULL;
    json_decref(value);
    int rc = v ? spoor_attribute(c->app, c->seq, path ? id : NULL, key, v, NULL) : -ENOMEM;
    free(v);
    return chat_refused(c, rc, "attribute");
}

static int step_begin(struct chat *c, const char *action, json_t *inputs)
{
    char *in = inputs ? json_dumps(inputs, JSON_FLAGS) : NULL;
    json_decref(inputs);
    int rc = in ? spoor_step_begin(c->app, c->seq, action, in) : -ENOMEM;
    free(in);
    pause_ms(c->delay_ms);
    return chat_refused(c, rc, "step_begin");
}

/* Ends the step under way unless rc (an earlier failure) is set; result is stolen (NULL:
 * null). The step's sequence id goes into the state, and its name unless it failed. */
static int step_end(struct chat *c, int rc, const char *action, json_t *result,
                    const char *exception)
{
    if (rc) {
        json_decref(result);
        return rc;
    }
    json_object_set_new(c->state, "__SEQUENCE_ID", json_integer(c->seq));
    if (!exception)
        json_object_set_new(c->state, "__PRIOR_STEP", json_string(action));
    char *res = result ? json_dumps(result, JSON_FLAGS) : NULL;
    char *st = json_dumps(c->state, JSON_FLAGS);
    rc = !st || (result && !res) ? -ENOMEM
                                 : spoor_step_end(c->app, c->seq, action, res, st, exception);
    json_decref(result);
    free(res);
    free(st);
    rc = chat_refused(c, rc, "step_end");
    c->seq++;
    return rc;
}

static const char *str_of(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

static const char *state_str(const struct chat *c, const char *key)
{
    return str_of(json_object_get(c->state, key));
}

static json_t *chat_item(const char *role, const char *content, const char *type)
{
    return json_pack("{s:s, s:s, s:s}", "role", role, "content", content, "type", type);
}

static int words(const char *s)
{
    int n = 0;
    for (const char *p = s; *p; p++)
        n += *p != ' ' && (p == s || p[-1] == ' ');
    return n;
}

/* The model's "tokens": words of the whole history, plus a system prompt of 12. */
static int history_tokens(const struct chat *c)
{
    const json_t *h = json_object_get(c->state, "chat_history");
    int n = 12;
    for (size_t i = 0; i < json_array_size(h); i++)
        n += words(str_of(json_object_get(json_array_get(h, i), "content")));
    return n;
}

static const char *mode_of(const char *prompt)
{
    if (strstr(prompt, "draw"))
        return "generate_image";
    if (strstr(prompt, "function") || strstr(prompt, "code"))
        return "generate_code";
    if (strchr(prompt, '?') || strstr(prompt, "xplain") || strstr(prompt, "ell me"))
        return "answer_question";
    return "unknown";
}

static const char *type_of(const char *mode)
{
    return strcmp(mode, "generate_image") == 0  ? "image"
           : strcmp(mode, "generate_code") == 0 ? "code"
                                                : "text";
}

static int act_prompt(struct chat *c, const char *prompt)
{
    int rc = step_begin(c, "prompt", json_pack("{s:s}", "prompt", prompt));
    rc = rc ?: span_begin(c, "0", "process_prompt", NULL);
    rc = rc ?: attr(c, "0", "prompt", json_string(prompt));
    rc = rc ?: span_end(c, "0");
    /* A new turn keeps the history and the prompt only (Burr's state.wipe(keep=...)). */
    json_object_del(c->state, "safe");
    json_object_del(c->state, "mode");
    json_object_del(c->state, "response");
    json_t *item = chat_item("user", prompt, "text");
    json_array_append(json_object_get(c->state, "chat_history"), item);
    json_object_set_new(c->state, "prompt", json_string(prompt));
    return step_end(c, rc, "prompt", json_pack("{s:o}", "chat_item", item), NULL);
}

static int act_check_safety(struct chat *c)
{
    int rc = step_begin(c, "check_safety", json_object());
    rc = rc ?: span_begin(c, "0", "check_safety", NULL);
    bool safe = strstr(state_str(c, "prompt"), "unsafe") == NULL;
    rc = rc ?: span_end(c, "0");
    json_object_set_new(c->state, "safe", json_boolean(safe));
    return step_end(c, rc, "check_safety", json_pack("{s:b}", "safe", safe), NULL);
}

/* decide_mode; when fail, the model call "raises" and the step ends with a traceback. */
static int act_decide_mode(struct chat *c, bool fail)
{
    const char *mode = mode_of(state_str(c, "prompt"));
    int tokens = history_tokens(c) + 60; /* the instructions about the modes */
    int rc = step_begin(c, "decide_mode", json_object());
    rc = rc ?: span_begin(c, "0", "decide_mode", NULL);
    rc = rc ?: span_begin(c, "0.0", "build_prompt", NULL);
    rc = rc ?: span_end(c, "0.0");
    rc = rc ?: span_begin(c, "0.1", "query_model", "0.0");
    rc = rc ?: span_begin(c, "0.1.0", "model.chat", NULL);
    rc = rc ?: attr(c, "0.1.0", "gen_ai.request.model", json_string(MODEL));
    rc = rc ?: attr(c, "0.1.0", "gen_ai.usage.prompt_tokens", json_integer(tokens));
    if (fail)
        rc = rc ?: attr(c, "0.1.0", "error", json_string("401 Unauthorized"));
    else
        rc = rc ?: attr(c, "0.1.0", "gen_ai.completion.0.content", json_string(mode));
    rc = rc ?: span_end(c, "0.1.0");
    if (!fail)
        rc = rc ?: attr(c, "0.1", "prompt_tokens", json_integer(tokens));
    rc = rc ?: span_end(c, "0.1");
    rc = rc ?: span_end(c, "0");
    if (fail)
        return step_end(c, rc, "decide_mode", NULL, failure_traceback);
    json_object_set_new(c->state, "mode", json_string(mode));
    return step_end(c, rc, "decide_mode", json_pack("{s:s}", "mode", mode), NULL);
}

/* The answer arrives as a stream of words: begin, first item, end with the count. */
static int stream_answer(struct chat *c, const char *answer)
{
    int n = words(answer);
    int rc = chat_refused(c, spoor_stream_begin(c->app, c->seq, NULL), "stream_begin");
    rc = rc ?: chat_refused(c, spoor_stream_first_item(c->app, c->seq, NULL), "stream_item");
    return rc ?: chat_refused(c, spoor_stream_end(c->app, c->seq, NULL, n), "stream_end");
}

static int spawn_child(struct chat *c, const struct spoor_demo_chat *child)
{
    struct spoor_pointer parent = {c->app_id, c->pk, c->seq, true};
    int rc = attr(c, NULL, "spawned_app", json_string(child->app_id));
    return rc ?: spoor_demo_chat_run(c->t, child, c->pk, &parent, c->delay_ms, c->err);
}

static int act_generate_answer(struct chat *c, const struct spoor_demo_turn *turn,
                               const struct spoor_demo_chat *spawn)
{
    const char *answer = turn->answer ? turn->answer : stock_answer;
    int rc = step_begin(c, "generate_answer", json_object());
    rc = rc ?: attr(c, NULL, "model", json_string(MODEL));
    if (spawn)
        rc = rc ?: spawn_child(c, spawn);
    rc = rc ?: span_begin(c, "0", "generate_answer", NULL);
    rc = rc ?: span_begin(c, "0.0", "build_messages", NULL);
    rc = rc ?: span_end(c, "0.0");
    rc = rc ?: span_begin(c, "0.1", "model.stream", "0.0");
    rc = rc ?: stream_answer(c, answer);
    rc = rc ?: attr(c, "0.1", "prompt_tokens", json_integer(history_tokens(c)));
    rc = rc ?: attr(c, "0.1", "completion_tokens", json_integer(words(answer)));
    rc = rc ?: span_end(c, "0.1");
    rc = rc ?: span_end(c, "0");
    json_t *response = json_pack("{s:s, s:s, s:s}", "content", answer, "type",
                                 type_of(state_str(c, "mode")), "role", "assistant");
    json_object_set(c->state, "response", response);
    return step_end(c, rc, "generate_answer", json_pack("{s:o}", "response", response), NULL);
}

static int act_response(struct chat *c)
{
    json_t *response = json_object_get(c->state, "response");
    bool safe = json_is_true(json_object_get(c->state, "safe")) && response;
    int rc = step_begin(c, "response", json_object());
    rc = rc ?: span_begin(c, "0", "process_response", NULL);
    rc = rc ?: span_begin(c, "0.0", safe ? "safe" : "unsafe", NULL);
    rc = rc ?: span_end(c, "0.0");
    rc = rc ?: span_end(c, "0");
    json_t *item = safe ? json_incref(response)
                        : chat_item("assistant", "I'm sorry, I can't respond to that.", "error");
    json_array_append(json_object_get(c->state, "chat_history"), item);
    return step_end(c, rc, "response", json_pack("{s:o}", "chat_item", item), NULL);
}

/* One turn, from prompt to response; *failed when a step failed and the app stopped. */
static int chat_turn(struct chat *c, const struct spoor_demo_turn *turn, bool fail,
                     const struct spoor_demo_chat *spawn, bool *failed)
{
    int rc = act_prompt(c, turn->prompt);
    rc = rc ?: act_check_safety(c);
    if (rc == 0 && json_is_true(json_object_get(c->state, "safe"))) {
        rc = act_decide_mode(c, fail);
        *failed = fail;
        if (rc == 0 && !fail)
            rc = act_generate_answer(c, turn, spawn);
    }
    return rc || *failed ? rc : act_response(c);
}

int spoor_demo_chat_run(struct spoor_tracker *t, const struct spoor_demo_chat *conv,
                        const char *partition_key, const struct spoor_pointer *spawning_parent,
                        int delay_ms, struct spoor_error *err)
{
    struct spoor_error local;
    struct chat c = {.t = t,
                     .app_id = conv->app_id,
                     .pk = partition_key,
                     .delay_ms = delay_ms,
                     .err = err ? err : &local};
    char *graph = spoor_demo_chatbot_graph();
    c.state = json_pack("{s:[]}", "chat_history");
    int rc = graph && c.state ? 0 : spoor_error_set(c.err, -ENOMEM, "out of memory");
    rc = rc
             ?: spoor_app_new(t, conv->app_id, partition_key, graph, NULL, spawning_parent, &c.app,
                              c.err);
    bool failed = false;
    for (size_t i = 0; rc == 0 && !failed && i < conv->nturns; i++) {
        rc = chat_turn(&c, &conv->turns[i], (int)i == conv->fail_turn, i == 0 ? conv->spawn : NULL,
                       &failed);
        rc = rc ?: spoor_tracker_flush(t, FLUSH_TIMEOUT_MS, c.err);
    }
    free(graph);
    json_decref(c.state);
    return rc;
}

/* ---- the demo conversations ------------------------------------------------------------ */

static const struct spoor_demo_turn giraffe[] = {
    {"Please draw a giraffe.", "https://images.example.com/demo/giraffe.png"},
    {"Please write a function that returns the height of a giraffe.",
     "```c\ndouble giraffe_height_m(void)\n{\n    return 5.5;\n}\n```"},
    {"How tall is a giraffe?", "An adult giraffe is 4.3 to 5.7 metres tall."},
};

static const struct spoor_demo_turn geography[] = {
    {"What is the capital of France?", "Paris is the capital of France."},
    {"What is the capital of Germany?", "Berlin is the capital of Germany."},
    {"Tell me something unsafe about volcanoes.", NULL},
};

static const struct spoor_demo_turn physics[] = {
    {"Explain Newton's second law.",
     "Force equals mass times acceleration: F = m a. Push twice as hard and the acceleration "
     "doubles."},
    {"And the third law?", "Every action has an equal and opposite reaction."},
};

static const struct spoor_demo_turn physics_units[] = {
    {"What is the SI unit of force?", "The newton: one kilogram metre per second squared."},
};

static const struct spoor_demo_turn errors[] = {
    {"Please draw a giraffe.", "https://images.example.com/demo/giraffe.png"},
    {"What is the meaning of life?", "42."},
};

static const struct spoor_demo_chat physics_child = {"chat-3-physics-units", physics_units, 1, -1,
                                                     NULL};

const struct spoor_demo_chat spoor_demo_chats[] = {
    {"chat-1-giraffe", giraffe, 3, -1, NULL},
    {"chat-2-geography", geography, 3, -1, NULL},
    {"chat-3-physics", physics, 2, -1, &physics_child},
    {"chat-6-demonstrate-errors", errors, 2, 1, NULL},
};
const size_t spoor_demo_nchats = sizeof spoor_demo_chats / sizeof spoor_demo_chats[0];

/* ---- seeding --------------------------------------------------------------------------- */

static const struct {
    const char *app_id;
    int count_to;
} demo_counters[] = {{"count-to-1", 1}, {"count-to-10", 10}, {"count-to-42", 42}};

static const char *const demo_projects[2] = {SPOOR_DEMO_COUNTER_PROJECT,
                                             SPOOR_DEMO_CHATBOT_PROJECT};

static const char *target_bucket(const struct spoor_demo_target *tg)
{
    return tg->bucket && tg->bucket[0] ? tg->bucket : SPOOR_DEMO_BUCKET;
}

static struct spoor_router_opts target_router_opts(const struct spoor_demo_target *tg)
{
    /* An explicit store wins over $SPOOR_ROUTES ("" means no routes file). */
    return (struct spoor_router_opts){.routes_path = tg->store_root ? "" : tg->routes_path,
                                      .local_root = tg->store_root};
}

static int make_bucket(struct spoor_router *r, const char *bucket, struct spoor_error *err)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = bucket};
    struct spoor_s3_result res;
    int rc = spoor_router_exec(r, &op, &res, err);
    spoor_s3_result_cleanup(&res);
    if (rc == SPOOR_E_S3 && (strcmp(err->s3_code, "BucketAlreadyOwnedByYou") == 0 ||
                             strcmp(err->s3_code, "BucketAlreadyExists") == 0))
        rc = 0;
    return rc;
}

int spoor_demo_store_bucket(const char *store_root, const char *bucket, struct spoor_error *err)
{
    struct spoor_error local;
    err = err ? err : &local;
    struct spoor_demo_target tg = {.store_root = store_root, .bucket = bucket};
    struct spoor_router_opts ro = target_router_opts(&tg);
    struct spoor_router *r = spoor_router_new(NULL, &ro, err);
    if (!r)
        return SPOOR_E_CONFIG;
    int rc = make_bucket(r, target_bucket(&tg), err);
    spoor_router_close(r, NULL, NULL);
    return rc;
}

/* Whether project already has objects under data/<project>/ in the bucket. */
static int bucket_has(struct spoor_router *r, const char *bucket, const char *project, bool *yes,
                      struct spoor_error *err)
{
    char prefix[300];
    snprintf(prefix, sizeof prefix, "data/%s/", project);
    struct spoor_s3_op op = {
        .kind = SPOOR_S3_LIST_OBJECTS, .bucket = bucket, .prefix = prefix, .max_keys = 1};
    struct spoor_s3_result res;
    int rc = spoor_router_exec(r, &op, &res, err);
    *yes = rc == 0 && res.list.nobjects > 0;
    spoor_s3_result_cleanup(&res);
    if (rc == SPOOR_E_S3 && strcmp(err->s3_code, "NoSuchBucket") == 0) {
        char was[sizeof err->message];
        memcpy(was, err->message, sizeof was);
        spoor_error_set(err, rc, "%s (create it with 'spoor mb s3://%s')", was, bucket);
    }
    return rc;
}

/* Makes the bucket of a store, and finds which projects are there already. */
static int target_prepare(const struct spoor_demo_target *tg, bool has[2], struct spoor_error *err)
{
    if (tg->local_root) {
        for (int i = 0; i < 2; i++) {
            char path[4096];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", tg->local_root, demo_projects[i]);
            has[i] = stat(path, &st) == 0;
        }
        return 0;
    }
    struct spoor_router_opts ro = target_router_opts(tg);
    struct spoor_router *r = spoor_router_new(NULL, &ro, err);
    if (!r)
        return SPOOR_E_CONFIG;
    int rc = tg->store_root ? make_bucket(r, target_bucket(tg), err) : 0;
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = bucket_has(r, target_bucket(tg), demo_projects[i], &has[i], err);
    spoor_router_close(r, NULL, NULL);
    return rc;
}

static int target_tracker(const struct spoor_demo_target *tg, const char *project,
                          struct spoor_tracker **t, struct spoor_error *err)
{
    char spool[4096];
    struct spoor_tracker_opts o = {.project = project, .local_root = tg->local_root};
    if (!tg->local_root) {
        struct spoor_router_opts ro = target_router_opts(tg);
        o.bucket = target_bucket(tg);
        o.store_root = ro.local_root;
        o.routes_path = ro.routes_path;
        if (tg->spool_dir) {
            snprintf(spool, sizeof spool, "%s/%s", tg->spool_dir, project);
            o.spool_dir = spool;
        }
    }
    return spoor_tracker_new(&o, t, err);
}

static int seed_counters(struct spoor_tracker *t, const struct spoor_demo_target *tg,
                         FILE *progress, struct spoor_error *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof demo_counters / sizeof demo_counters[0]; i++) {
        rc = spoor_demo_counter_run(t, demo_counters[i].app_id, "user_0", NULL,
                                    demo_counters[i].count_to, tg->delay_ms, err);
        if (rc == 0 && progress)
            fprintf(progress, "%s/%s: %d steps\n", SPOOR_DEMO_COUNTER_PROJECT,
                    demo_counters[i].app_id, demo_counters[i].count_to + 1);
    }
    return rc;
}

static int seed_chats(struct spoor_tracker *t, const struct spoor_demo_target *tg, FILE *progress,
                      struct spoor_error *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < spoor_demo_nchats; i++) {
        const struct spoor_demo_chat *c = &spoor_demo_chats[i];
        rc = spoor_demo_chat_run(t, c, NULL, NULL, tg->delay_ms, err);
        if (rc == 0 && progress)
            fprintf(progress, "%s/%s: %zu turn%s%s%s%s\n", SPOOR_DEMO_CHATBOT_PROJECT, c->app_id,
                    c->nturns, c->nturns == 1 ? "" : "s",
                    c->fail_turn >= 0 ? ", a failing step" : "", c->spawn ? ", spawned " : "",
                    c->spawn ? c->spawn->app_id : "");
    }
    return rc;
}

/* One project: a tracker, its applications, and the tracker freed (everything sent). */
static int seed_project(const struct spoor_demo_target *tg, int which, FILE *progress,
                        struct spoor_error *err)
{
    struct spoor_tracker *t = NULL;
    int rc = target_tracker(tg, demo_projects[which], &t, err);
    if (rc)
        return rc;
    rc = which == 0 ? seed_counters(t, tg, progress, err) : seed_chats(t, tg, progress, err);
    int freed = spoor_tracker_free(t, FLUSH_TIMEOUT_MS);
    if (rc == 0 && freed)
        rc = spoor_error_set(err, freed,
                             "project %s: not everything was sent (%s); what was not is kept in "
                             "the spool",
                             demo_projects[which], spoor_strerror(freed));
    return rc;
}

int spoor_demo_seed(const struct spoor_demo_target *tg, FILE *progress, struct spoor_error *err)
{
    struct spoor_error local;
    err = err ? err : &local;
    spoor_error_clear(err);
    if (!tg->local_root == !(tg->store_root || tg->bucket || tg->routes_path))
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "demo: name one target, Burr's local layout (a directory) or a "
                               "bucket (in a local store, or through the routes)");
    bool has[2] = {false, false};
    int rc = target_prepare(tg, has, err);
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (has[i]) {
            if (progress)
                fprintf(progress, "%s: already there, left alone\n", demo_projects[i]);
            continue;
        }
        rc = seed_project(tg, i, progress, err);
    }
    return rc;
}
