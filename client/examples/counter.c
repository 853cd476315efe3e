/*
 * counter.c: spoor-example-counter, the smallest tracked application: a state machine in
 * Burr's model that counts to N (actions "counter" and "result", transition
 * "counter < count_to"), tracked with spoor's tracker into a bucket, a local bucket store or
 * Burr's local layout. The state machine is tracker/demo.c's, the one `spoor demo` runs for
 * project demo_counter; this file is the program around it.
 *
 *   spoor-example-counter --store /tmp/objects 10
 *   spoor-example-counter --local ~/.burr --partition-key user_0 42
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "example.h"

int main(int argc, char **argv)
{
    struct example ex = {
        .program = "spoor-example-counter",
        .operands = "N",
        .about = "Counts from 0 to N (1..1000000) as an application of N + 1 steps: N "
                 "\"counter\" steps, then \"result\". The application id is count-to-N unless "
                 "--app-id says otherwise.",
        .project = SPOOR_DEMO_COUNTER_PROJECT,
    };
    int code = example_parse(&ex, argc, argv);
    if (code >= 0)
        return code;
    if (ex.argc != 1)
        return example_usage_error(&ex, "give N, the number to count to");
    char *end;
    errno = 0;
    long n = strtol(ex.argv[0], &end, 10);
    if (errno || *end || n < 1 || n > 1000000)
        return example_usage_error(&ex, "N must be a whole number in 1..1000000");
    char app_id[64];
    snprintf(app_id, sizeof app_id, "count-to-%ld", n);

    struct spoor_tracker *t;
    if (example_tracker_new(&ex, &t) != 0)
        return EXAMPLE_EXIT_FAILED;
    struct spoor_error err;
    const char *id = ex.app_id ? ex.app_id : app_id;
    int rc = spoor_demo_counter_run(t, id, ex.partition_key, ex.forked ? &ex.fork : NULL, (int)n,
                                    ex.delay_ms, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", ex.program, err.message);
    code = example_tracker_free(&ex, t);
    if (rc == 0 && code == 0)
        printf("%s/%s: counted to %ld in %ld steps\n", ex.project, id, n, n + 1);
    return rc ? EXAMPLE_EXIT_FAILED : code;
}
