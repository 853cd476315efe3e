/*
 * chatbot.c: spoor-example-chatbot, a chat application in Burr's model (prompt ->
 * check_safety -> decide_mode -> generate_answer -> response, one turn per prompt) whose
 * "model" is canned and deterministic, tracked with spoor's tracker. Each step logs nested
 * spans, attributes (token counts on spans, the model name on the step) and, in
 * generate_answer, a stream. The state machine is tracker/demo.c's, the one `spoor demo` runs
 * for project demo_chatbot.
 *
 * With prompts on the command line it runs one conversation of them; without, the demo's
 * conversations (or the one --app-id names), among them one whose step fails and one that
 * spawns a child application.
 *
 *   spoor-example-chatbot --store /tmp/objects "What is the capital of France?"
 *   spoor-example-chatbot --local ~/.burr
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "example.h"

/* The demo's conversations, or the one called app_id (NULL: all). */
static int run_demo_chats(const struct example *ex, struct spoor_tracker *t,
                          struct spoor_error *err)
{
    int found = 0, rc = 0;
    for (size_t i = 0; rc == 0 && i < spoor_demo_nchats; i++) {
        const struct spoor_demo_chat *c = &spoor_demo_chats[i];
        if (ex->app_id && strcmp(ex->app_id, c->app_id) != 0)
            continue;
        found++;
        rc = spoor_demo_chat_run(t, c, ex->partition_key, NULL, ex->delay_ms, err);
        if (rc == 0)
            printf("%s/%s: %zu turn%s\n", ex->project, c->app_id, c->nturns,
                   c->nturns == 1 ? "" : "s");
    }
    if (rc == 0 && !found)
        rc = spoor_error_set(err, SPOOR_E_INVALID, "no demo conversation is called %s", ex->app_id);
    return rc;
}

/* One conversation of the prompts on the command line. */
static int run_prompts(const struct example *ex, struct spoor_tracker *t, struct spoor_error *err)
{
    struct spoor_demo_turn *turns = calloc((size_t)ex->argc, sizeof *turns);
    if (!turns)
        return spoor_error_set(err, -ENOMEM, "out of memory");
    for (int i = 0; i < ex->argc; i++)
        turns[i].prompt = ex->argv[i];
    struct spoor_demo_chat c = {ex->app_id ? ex->app_id : "chat-example", turns, (size_t)ex->argc,
                                -1, NULL};
    int rc = spoor_demo_chat_run(t, &c, ex->partition_key, NULL, ex->delay_ms, err);
    if (rc == 0)
        printf("%s/%s: %d turn%s\n", ex->project, c.app_id, ex->argc, ex->argc == 1 ? "" : "s");
    free(turns);
    return rc;
}

int main(int argc, char **argv)
{
    struct example ex = {
        .program = "spoor-example-chatbot",
        .operands = "[PROMPT...]",
        .about = "A chatbot with a canned model. With PROMPTs: one conversation of them "
                 "(application id chat-example unless --app-id). Without: the demo's "
                 "conversations, or the one --app-id names.",
        .project = SPOOR_DEMO_CHATBOT_PROJECT,
    };
    int code = example_parse(&ex, argc, argv);
    if (code < 0 && ex.forked)
        return example_usage_error(&ex, "--fork-of: only spoor-example-counter forks");
    if (code >= 0)
        return code;
    struct spoor_tracker *t;
    if (example_tracker_new(&ex, &t) != 0)
        return EXAMPLE_EXIT_FAILED;
    struct spoor_error err;
    int rc = ex.argc > 0 ? run_prompts(&ex, t, &err) : run_demo_chats(&ex, t, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", ex.program, err.message);
    code = example_tracker_free(&ex, t);
    return rc ? EXAMPLE_EXIT_FAILED : code;
}
