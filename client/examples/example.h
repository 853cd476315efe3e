/*
 * example.h: what the example programs share: their command line (where the tracker writes,
 * which project, application and partition key) and the tracker's life around the
 * application: spoor_tracker_new before it, spoor_tracker_flush and spoor_tracker_free after,
 * each result checked and reported. The applications themselves are in tracker/demo.c,
 * shared with `spoor demo`.
 */
#ifndef SPOOR_EXAMPLE_H
#define SPOOR_EXAMPLE_H

#include <spoor/tracker.h>

#include <stdbool.h>

enum { EXAMPLE_EXIT_OK = 0, EXAMPLE_EXIT_FAILED = 1, EXAMPLE_EXIT_USAGE = 2 };

struct example {
    /* set by the program */
    const char *program;
    const char *operands; /* for the usage line, e.g. "N" */
    const char *about;    /* one paragraph for --help */
    const char *project;  /* default project */
    /* set from the command line */
    const char *bucket;
    const char *store_root;
    const char *routes_path;
    const char *local_root;
    const char *spool_dir;
    const char *app_id;        /* NULL: the program's default */
    const char *partition_key; /* NULL: none */
    int delay_ms;
    bool forked;               /* --fork-of APP:SEQ given */
    struct spoor_pointer fork; /* the application and step it forks from (same partition) */
    char fork_app[128];
    int argc; /* operands */
    char **argv;
};

/* Parses the options into ex; returns -1 to go on, or the exit status (after --help or a
 * usage error, which it prints). */
int example_parse(struct example *ex, int argc, char **argv);

/* Prints "program: message" and the usage line; returns EXAMPLE_EXIT_USAGE. */
int example_usage_error(const struct example *ex, const char *message);

/* Starts the tracker the options describe (after creating the bucket of a --store); prints
 * the error and returns non-zero on failure. */
int example_tracker_new(const struct example *ex, struct spoor_tracker **t);

/* Waits until everything is sent, frees the tracker and prints what it wrote; returns the
 * exit status. */
int example_tracker_free(const struct example *ex, struct spoor_tracker *t);

#endif
