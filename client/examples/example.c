/*
 * example.c: the example programs' command line and the tracker's life around an application.
 * This is the part an application writes once: fill struct spoor_tracker_opts, start the
 * tracker, and at the end flush and free it, reporting what could not be sent (it stays in
 * the spool and goes out with the next tracker that uses the same spool directory).
 */
#include "example.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define SEND_TIMEOUT_MS 60000

static const char options_help[] =
    "Where events go (one of):\n"
    "  --bucket BUCKET    S3 layout in BUCKET through the router: the routes file of --routes\n"
    "                     or SPOOR_ROUTES, else the AWS environment (AWS_ACCESS_KEY_ID, ...,\n"
    "                     AWS_ENDPOINT_URL_S3)\n"
    "  --store DIR        S3 layout in a local bucket store at DIR, as spoor-server's\n"
    "                     embedded store (bucket: --bucket, default spoor-local; created)\n"
    "  --local DIR        Burr's local layout under DIR (as Burr's ~/.burr)\n"
    "Options:\n"
    "  --routes FILE      routes file for --bucket\n"
    "  --spool DIR        spool directory (S3 layout; default under XDG_STATE_HOME)\n"
    "  --project NAME     project (default %s)\n"
    "  --app-id ID        application id\n"
    "  --partition-key K  partition key (default none)\n"
    "  --delay-ms MS      pause inside every action, so that durations show (default 0)\n"
    "  --fork-of APP:SEQ  the application forks APP at step SEQ (its parent pointer; same\n"
    "                     partition key)\n"
    "  --help             this text\n";

static void usage(const struct example *ex, FILE *f)
{
    fprintf(f,
            "usage: %s [--bucket BUCKET [--routes FILE] | --store DIR [--bucket BUCKET] | "
            "--local DIR] [OPTIONS] %s\n",
            ex->program, ex->operands);
}

int example_usage_error(const struct example *ex, const char *message)
{
    fprintf(stderr, "%s: %s\n", ex->program, message);
    usage(ex, stderr);
    return EXAMPLE_EXIT_USAGE;
}

static int check_target(const struct example *ex)
{
    if (!ex->local_root && !ex->store_root && !ex->bucket)
        return example_usage_error(ex, "say where events go: --bucket, --store or --local");
    if (ex->local_root && (ex->store_root || ex->bucket || ex->routes_path))
        return example_usage_error(ex, "--local takes no --bucket, --store or --routes");
    if (ex->store_root && ex->routes_path)
        return example_usage_error(ex, "--store and --routes both say where the bucket is");
    return -1;
}

int example_parse(struct example *ex, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bucket", required_argument, 0, 'b'},   {"store", required_argument, 0, 's'},
        {"local", required_argument, 0, 'l'},    {"routes", required_argument, 0, 'r'},
        {"spool", required_argument, 0, 'S'},    {"project", required_argument, 0, 'p'},
        {"app-id", required_argument, 0, 'a'},   {"partition-key", required_argument, 0, 'k'},
        {"delay-ms", required_argument, 0, 'd'}, {"fork-of", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            ex->bucket = optarg;
            break;
        case 's':
            ex->store_root = optarg;
            break;
        case 'l':
            ex->local_root = optarg;
            break;
        case 'r':
            ex->routes_path = optarg;
            break;
        case 'S':
            ex->spool_dir = optarg;
            break;
        case 'p':
            ex->project = optarg;
            break;
        case 'a':
            ex->app_id = optarg;
            break;
        case 'k':
            ex->partition_key = optarg;
            break;
        case 'd':
            errno = 0;
            ex->delay_ms = (int)strtol(optarg, &end, 10);
            if (errno || *end || ex->delay_ms < 0 || ex->delay_ms > 60000)
                return example_usage_error(ex, "--delay-ms wants 0..60000");
            break;
        case 'f': {
            const char *colon = strrchr(optarg, ':');
            errno = 0;
            long seq = colon ? strtol(colon + 1, &end, 10) : -1;
            size_t n = colon ? (size_t)(colon - optarg) : 0;
            if (!colon || n == 0 || n >= sizeof ex->fork_app || errno || *end || end == colon + 1 ||
                seq < 0)
                return example_usage_error(ex, "--fork-of wants APP:SEQ, e.g. count-to-10:4");
            memcpy(ex->fork_app, optarg, n);
            ex->fork_app[n] = '\0';
            ex->forked = true;
            ex->fork = (struct spoor_pointer){ex->fork_app, NULL, seq, true};
            break;
        }
        case 'h':
            usage(ex, stdout);
            printf("\n%s\n\n", ex->about);
            printf(options_help, ex->project);
            return EXAMPLE_EXIT_OK;
        default:
            usage(ex, stderr);
            return EXAMPLE_EXIT_USAGE;
        }
    }
    ex->argc = argc - optind;
    ex->argv = argv + optind;
    ex->fork.partition_key = ex->partition_key;
    return check_target(ex);
}

int example_tracker_new(const struct example *ex, struct spoor_tracker **t)
{
    struct spoor_error err;
    struct spoor_tracker_opts o = {
        .project = ex->project, .local_root = ex->local_root, .spool_dir = ex->spool_dir};
    if (!ex->local_root) {
        o.bucket = ex->bucket ? ex->bucket : SPOOR_DEMO_BUCKET;
        o.routes_path = ex->routes_path;
        if (ex->store_root) {
            o.store_root = ex->store_root;
            o.routes_path = ""; /* the store, whatever SPOOR_ROUTES says */
            if (spoor_demo_store_bucket(ex->store_root, o.bucket, &err) != 0) {
                fprintf(stderr, "%s: %s\n", ex->program, err.message);
                return EXAMPLE_EXIT_FAILED;
            }
        }
    }
    if (spoor_tracker_new(&o, t, &err) != 0) {
        fprintf(stderr, "%s: cannot start the tracker: %s\n", ex->program, err.message);
        return EXAMPLE_EXIT_FAILED;
    }
    return EXAMPLE_EXIT_OK;
}

int example_tracker_free(const struct example *ex, struct spoor_tracker *t)
{
    struct spoor_error err;
    int rc = spoor_tracker_flush(t, SEND_TIMEOUT_MS, &err);
    if (rc)
        fprintf(stderr, "%s: not everything was sent: %s\n", ex->program,
                err.message[0] ? err.message : spoor_strerror(rc));
    struct spoor_tracker_stats s;
    spoor_tracker_stats(t, &s);
    int freed = spoor_tracker_free(t, SEND_TIMEOUT_MS);
    if (rc == 0 && freed)
        fprintf(stderr, "%s: not everything was sent: %s\n", ex->program, spoor_strerror(freed));
    printf("%s: %llu events in %llu object(s) (%llu dropped, %llu refused, %llu spooled for a "
           "retry)\n",
           ex->project, (unsigned long long)s.events_written, (unsigned long long)s.objects_written,
           (unsigned long long)s.events_dropped, (unsigned long long)s.events_refused,
           (unsigned long long)s.spool_pending);
    return rc || freed ? EXAMPLE_EXIT_FAILED : EXAMPLE_EXIT_OK;
}
