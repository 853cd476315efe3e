/*
 * cli.h: what the spoor command's files share: the parsed command line, the router (made on
 * first use, so that `route check` and `--help` work without credentials), URI parsing and
 * error reporting with the exit codes of spoor.c.
 */
#ifndef SPOOR_CLI_H
#define SPOOR_CLI_H

#include <spoor/router.h>

#include <stdbool.h>

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_CONFIG = 3,
    CLI_EXIT_NOT_FOUND = 4,
    CLI_EXIT_READ_ONLY = 5,
};

struct cli {
    const char *routes_path;
    const char *content_type;
    bool recursive;
    bool help;
    long expires_s;
    const char *store_root; /* demo: --store, --bucket, --local */
    const char *bucket;
    const char *local_root;
    struct spoor_router *router;
};

struct cli_command;
typedef int (*cli_run_fn)(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);

struct cli_command {
    const char *name;
    const char *usage;
    const char *help;
    cli_run_fn run;
};

struct cli_uri {
    char bucket[256];
    char key[1025];
};

int cli_usage_error(const struct cli_command *cmd, const char *fmt, const char *arg);
/* Prints err and maps rc to an exit code. */
int cli_report(int rc, const struct spoor_error *err);
int cli_parse_uri(const struct cli_command *cmd, const char *s, struct cli_uri *u, bool need_key);
/* Makes cx->router from --routes / SPOOR_ROUTES; prints the problem and returns an exit code. */
int cli_router(struct cli *cx);

int cmd_ls(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);
int cmd_get(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);
int cmd_put(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);
int cmd_rm(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);
int cmd_cp(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);
int cmd_mb(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);
int cmd_presign(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);
int cmd_route(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);
int cmd_demo(struct cli *cx, const struct cli_command *cmd, int argc, char **argv);

#endif
