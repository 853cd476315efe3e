/*
 * spoor: the command-line tool. Object commands on s3://bucket/key URIs (ls, get, put, rm, cp,
 * mb, presign) and routing commands (route explain, route check), all through the router, so
 * that a bucket or prefix living on lakeFS, another S3 account or a local directory is used
 * with the caller's own names. It is a thin program over libspoor's router.
 *
 * Exit codes: 0 success, 1 the operation failed (S3, network or local I/O error), 2 usage
 * error, 3 configuration error, 4 the object or bucket does not exist, 5 refused by a
 * read-only route.
 */
#include <spoor/router.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_command commands[] = {
    {"ls", "ls [-r] s3://BUCKET[/PREFIX]",
     "List keys and common prefixes one level below PREFIX, or every key below it with -r.",
     cmd_ls},
    {"get", "get s3://BUCKET/KEY [FILE|-]",
     "Download an object to FILE (written under a temporary name, then renamed) or to "
     "standard output.",
     cmd_get},
    {"put", "put [--content-type TYPE] FILE|- s3://BUCKET/KEY",
     "Upload a file, in parts when large, or standard input.", cmd_put},
    {"rm", "rm s3://BUCKET/KEY...", "Delete objects.", cmd_rm},
    {"cp", "cp [--content-type TYPE] SRC DST",
     "Copy between s3:// URIs (server-side on one endpoint, streamed across endpoints), or "
     "between a local file and an s3:// URI.",
     cmd_cp},
    {"mb", "mb s3://BUCKET[/PREFIX]",
     "Create the bucket that the route of s3://BUCKET/PREFIX writes to, on its endpoint.", cmd_mb},
    {"presign", "presign [--expires SECONDS] s3://BUCKET/KEY",
     "Print a presigned GET URL (default lifetime 3600 s).", cmd_presign},
    {"route", "route explain s3://BUCKET/KEY | route check FILE",
     "explain: which route, endpoint and credentials serve a URI, and the translated URI "
     "(never a secret). check: load a routes file and list every problem in it.",
     cmd_route},
    {"demo", "demo [--store DIR | --bucket BUCKET | --local DIR] [--routes FILE]",
     "Write Burr-like demo data: project demo_counter (count-to-1, count-to-10, count-to-42,\n"
     "partition key user_0) and project demo_chatbot (conversations with nested spans,\n"
     "attributes, streams, a failing step and a spawned child application).\n"
     "  --store DIR     S3 layout in a local bucket store at DIR (bucket: --bucket, default\n"
     "                  spoor-local; created if missing)\n"
     "  --bucket BUCKET S3 layout in BUCKET through the routes (--routes, SPOOR_ROUTES) or the\n"
     "                  AWS environment; the bucket must exist\n"
     "  --local DIR     Burr's local layout (~/.burr style) under DIR\n"
     "Without any of them: --store \"$BURR_SERVER_ROOT/objects\" (default\n"
     "~/.burr_server/objects) --bucket spoor-local. A project already there is left alone.",
     cmd_demo},
};

static const char global_help[] =
    "usage: spoor [--routes FILE] COMMAND [ARGS]\n"
    "\n"
    "Every command goes through the bucket/prefix router: --routes FILE (or SPOOR_ROUTES)\n"
    "names the routes file; without one, everything goes to the S3 endpoint of the standard\n"
    "AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,\n"
    "AWS_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).\n"
    "\n"
    "commands:\n";

static void print_usage(FILE *f)
{
    fputs(global_help, f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %s\n", commands[i].usage);
    fputs("\n'spoor COMMAND --help' describes a command. Exit codes: 0 ok, 1 failed, 2 usage,\n"
          "3 configuration, 4 not found, 5 refused by a read-only route.\n",
          f);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "spoor: ");
    fprintf(stderr, fmt, arg);
    if (cmd)
        fprintf(stderr, "\nusage: spoor %s\n", cmd->usage);
    else
        fprintf(stderr, "\nRun 'spoor --help' for usage.\n");
    return CLI_EXIT_USAGE;
}

int cli_report(int rc, const struct spoor_error *err)
{
    if (rc == 0)
        return CLI_EXIT_OK;
    fprintf(stderr, "spoor: %s\n", err->message[0] ? err->message : spoor_strerror(rc));
    if (rc == SPOOR_E_S3 &&
        (strcmp(err->s3_code, "NoSuchKey") == 0 || strcmp(err->s3_code, "NoSuchBucket") == 0))
        return CLI_EXIT_NOT_FOUND;
    if (rc == SPOOR_E_READ_ONLY)
        return CLI_EXIT_READ_ONLY;
    return rc == SPOOR_E_CONFIG ? CLI_EXIT_CONFIG : CLI_EXIT_FAILED;
}

int cli_parse_uri(const struct cli_command *cmd, const char *s, struct cli_uri *u, bool need_key)
{
    if (strncmp(s, "s3://", 5) != 0)
        return cli_usage_error(cmd, "'%s' is not an s3://BUCKET/KEY URI", s);
    const char *b = s + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    const char *key = slash ? slash + 1 : "";
    if (blen == 0 || blen >= sizeof u->bucket || strlen(key) >= sizeof u->key)
        return cli_usage_error(cmd, "'%s' has an empty or too long bucket or key", s);
    memcpy(u->bucket, b, blen);
    u->bucket[blen] = '\0';
    memcpy(u->key, key, strlen(key) + 1);
    if (need_key && !u->key[0])
        return cli_usage_error(cmd, "'%s' names no object key", s);
    return 0;
}

int cli_router(struct cli *cx)
{
    if (cx->router)
        return 0;
    struct spoor_router_opts opts = {.routes_path = cx->routes_path};
    struct spoor_error err;
    cx->router = spoor_router_new(NULL, &opts, &err);
    if (!cx->router) {
        fprintf(stderr, "spoor: %s\n", err.message);
        return CLI_EXIT_CONFIG;
    }
    return 0;
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Options valid before and after the command name. */
static int parse_options(struct cli *cx, int argc, char **argv, const struct cli_command *cmd)
{
    static const struct option longopts[] = {{"routes", required_argument, 0, 'R'},
                                             {"content-type", required_argument, 0, 't'},
                                             {"recursive", no_argument, 0, 'r'},
                                             {"expires", required_argument, 0, 'x'},
                                             {"help", no_argument, 0, 'h'},
                                             {"store", required_argument, 0, 'S'},
                                             {"bucket", required_argument, 0, 'B'},
                                             {"local", required_argument, 0, 'L'},
                                             {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, cmd ? "rh" : "+h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'R':
            cx->routes_path = optarg;
            break;
        case 't':
            cx->content_type = optarg;
            break;
        case 'r':
            cx->recursive = true;
            break;
        case 'x': {
            char *end;
            errno = 0;
            cx->expires_s = strtol(optarg, &end, 10);
            if (errno || *end || cx->expires_s <= 0 || cx->expires_s > 604800)
                return cli_usage_error(cmd, "--expires wants 1..604800 seconds, not '%s'", optarg);
            break;
        }
        case 'h':
            cx->help = true;
            break;
        case 'S':
            cx->store_root = optarg;
            break;
        case 'B':
            cx->bucket = optarg;
            break;
        case 'L':
            cx->local_root = optarg;
            break;
        default:
            return cli_usage_error(cmd, "%s", "unknown option");
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cx = {.expires_s = 3600};
    int code = parse_options(&cx, argc, argv, NULL);
    if (code)
        return code;
    if (optind >= argc) {
        print_usage(cx.help ? stdout : stderr);
        return cx.help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    const struct cli_command *cmd = find_command(argv[optind]);
    if (!cmd)
        return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    code = parse_options(&cx, sub_argc, sub_argv, cmd);
    if (code)
        return code;
    if (cx.help) {
        printf("usage: spoor %s\n\n%s\n", cmd->usage, cmd->help);
        return CLI_EXIT_OK;
    }
    code = cmd->run(&cx, cmd, sub_argc - optind, sub_argv + optind);
    if (cx.router)
        spoor_router_close(cx.router, NULL, NULL);
    return code;
}
