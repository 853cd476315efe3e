/*
 * demo.h: the demo applications, small state machines in Apache Burr's model (actions that
 * read and write a state, transitions with conditions) written against the public tracker
 * API only, as an application would be. The example programs (client/examples), `spoor demo`
 * and the tests share them, so the demo data and the examples cannot drift apart.
 *
 *   counter:  counter --(counter < count_to)--> counter --(default)--> result
 *   chatbot:  prompt -> check_safety --(safe=True)--> decide_mode -> generate_answer -> response
 *                          '--(default)----------------------------------------------^
 *             response --(default)--> prompt (one turn per prompt)
 *
 * Everything the applications log is deterministic (no randomness, no clock in the content):
 * only the timestamps, tracker ids and S3 key prefixes differ between runs.
 *
 * Ownership: every pointer argument is borrowed for the duration of the call; err may be NULL.
 */
#ifndef SPOOR_DEMO_H
#define SPOOR_DEMO_H

#include <spoor/tracker.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SPOOR_DEMO_BUCKET "spoor-local" /* the embedded store's bucket, as spoor-server uses it */
#define SPOOR_DEMO_COUNTER_PROJECT "demo_counter"
#define SPOOR_DEMO_CHATBOT_PROJECT "demo_chatbot"

/* Where demo data goes: Burr's local layout under local_root, or the S3 layout in bucket
 * (NULL: SPOOR_DEMO_BUCKET) through the router: a local bucket store at store_root (the
 * routes file and $SPOOR_ROUTES are then ignored), or routes_path (NULL: $SPOOR_ROUTES, else
 * the AWS environment). */
struct spoor_demo_target {
    const char *local_root;
    const char *bucket;
    const char *store_root;
    const char *routes_path;
    const char *spool_dir; /* S3 layout: spool root, one subdirectory per project; NULL: the
                              tracker's default */
    int delay_ms;          /* pause inside every action, so durations show; 0: none */
};

/* The counter counts from 0 to count_to (1..1000000): count_to "counter" steps, then one
 * "result" step, each a begin_entry and an end_entry, with the state
 * {"count_to": N, "counter": i, "__SEQUENCE_ID": seq, "__PRIOR_STEP": action}. The
 * application is announced with spoor_app_new (graph: spoor_demo_counter_graph). Returns 0, or
 * the first refused call's code with err saying which. */
int spoor_demo_counter_run(struct spoor_tracker *t, const char *app_id, const char *partition_key,
                           const struct spoor_pointer *forked_from, int count_to, int delay_ms,
                           struct spoor_error *err);

/* One exchange: the user's prompt and the model's canned answer (NULL: a stock sentence). */
struct spoor_demo_turn {
    const char *prompt;
    const char *answer;
};

/* A conversation of the chatbot. A prompt containing "unsafe" is refused (check_safety
 * routes to response). fail_turn (-1: none) is the turn whose decide_mode step fails: its
 * step_end has a traceback as exception and a null result, and the application stops there,
 * as a Burr application does when an action raises. spawn (NULL: none) is a conversation the
 * first generate_answer step starts as a child application (spawning_parent_pointer on the
 * child; spawn_start in the parent's children.jsonl in the local layout). */
struct spoor_demo_chat {
    const char *app_id;
    const struct spoor_demo_turn *turns;
    size_t nturns;
    int fail_turn;
    const struct spoor_demo_chat *spawn;
};

/* The demo project's conversations (top-level ones; children hang off spawn). */
extern const struct spoor_demo_chat spoor_demo_chats[];
extern const size_t spoor_demo_nchats;

/* Runs a conversation as application c->app_id (partition_key NULL: the tracker's default),
 * spawned from spawning_parent when not NULL, and its spawned child. Each turn is flushed
 * (spoor_tracker_flush) so that an application's log spans several objects, as with Burr's
 * S3 client. A failing step is part of the demo, not an error: the return is 0 unless the
 * tracker refused a call. */
int spoor_demo_chat_run(struct spoor_tracker *t, const struct spoor_demo_chat *c,
                        const char *partition_key, const struct spoor_pointer *spawning_parent,
                        int delay_ms, struct spoor_error *err);

/* ApplicationModel JSON of the two applications (new: caller frees). */
char *spoor_demo_counter_graph(void);
char *spoor_demo_chatbot_graph(void);

/* Creates bucket in the local bucket store at store_root when it is not there yet (what the
 * server's embedded store needs before a tracker writes into it). */
int spoor_demo_store_bucket(const char *store_root, const char *bucket, struct spoor_error *err);

/* Seeds Burr-like demo data into target: project demo_counter with count-to-1, count-to-10
 * and count-to-42 (partition key user_0), project demo_chatbot with spoor_demo_chats (no
 * partition key). A project that already has data there is left alone (nothing appended).
 * With store_root the bucket is created if missing; elsewhere it must exist. progress (may be
 * NULL) gets one line per application or skipped project. Returns 0, or the first failure
 * with err filled (SPOOR_E_CONFIG for a bad target). */
int spoor_demo_seed(const struct spoor_demo_target *target, FILE *progress,
                    struct spoor_error *err);

#endif
