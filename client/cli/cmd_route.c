/*
 * cmd_route.c: `spoor route explain s3://BUCKET/KEY` (which route, endpoint, target and
 * credentials source serve a URI; never a secret) and `spoor route check FILE` (every problem
 * of a routes file, or a summary of its routes).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int explain(struct cli *cx, const struct cli_command *cmd, const char *uri)
{
    struct cli_uri u;
    int code = cli_parse_uri(cmd, uri, &u, false) ?: cli_router(cx);
    if (code)
        return code;
    struct spoor_route_explain x;
    if (spoor_router_explain(cx->router, u.bucket, u.key, &x) != 0)
        return cli_usage_error(cmd, "cannot explain '%s'", uri);
    printf("%s\n", uri);
    if (x.route_index < 0)
        printf("  route:       implicit (no routes file): %s -> %s\n", x.from, x.to);
    else
        printf("  route:       %d: %s -> %s\n", x.route_index, x.from, x.to);
    printf("  endpoint:    %s (%s, %s%s%s)\n", x.endpoint, x.endpoint_type, x.endpoint_url,
           x.region[0] ? ", region " : "", x.region);
    printf("  target:      %s\n", x.target);
    printf("  read-only:   %s\n", x.read_only ? "yes (writes are refused locally)" : "no");
    printf("  credentials: %s\n", x.credentials);
    return CLI_EXIT_OK;
}

static int check(const char *path)
{
    char *report = NULL;
    int rc = spoor_router_check(path, &report);
    fputs(report ? report : "", rc ? stderr : stdout);
    free(report);
    return rc ? CLI_EXIT_CONFIG : CLI_EXIT_OK;
}

int cmd_route(struct cli *cx, const struct cli_command *cmd, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[0], "explain") == 0)
        return explain(cx, cmd, argv[1]);
    if (argc == 2 && strcmp(argv[0], "check") == 0)
        return check(argv[1]);
    return cli_usage_error(cmd, "%s wants 'explain s3://BUCKET/KEY' or 'check FILE'", "route");
}
