/*
 * cmd_demo.c: `spoor demo`, which writes Burr-like demo data (projects demo_counter and
 * demo_chatbot, see tracker/demo.h) into a local bucket store, a bucket through the router, or
 * Burr's local layout. The applications are the ones the example programs run; this file only
 * chooses the target and reports.
 *
 * The default target, with no option, is the server's embedded store: --store
 * "$BURR_SERVER_ROOT/objects" (BURR_SERVER_ROOT defaulting to ~/.burr_server) and bucket
 * spoor-local. Objects are spooled in a private temporary directory while they are sent; it is
 * removed when everything went out, and named in the error otherwise.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"

/* Chooses the target from the options; returns an exit code when they do not make one. */
static int demo_target(struct cli *cx, const struct cli_command *cmd, struct spoor_demo_target *tg,
                       char *store, size_t size)
{
    *tg = (struct spoor_demo_target){.local_root = cx->local_root,
                                     .bucket = cx->bucket,
                                     .store_root = cx->store_root,
                                     .routes_path = cx->routes_path};
    if (tg->local_root && (tg->bucket || tg->store_root || tg->routes_path))
        return cli_usage_error(cmd, "%s",
                               "--local writes Burr's local layout: no bucket, store "
                               "or routes with it");
    if (tg->store_root && tg->routes_path)
        return cli_usage_error(cmd, "%s",
                               "--store and --routes both say where the bucket is: "
                               "give one");
    if (tg->local_root || tg->store_root || tg->bucket || tg->routes_path)
        return 0;
    const char *root = getenv("BURR_SERVER_ROOT"), *home = getenv("HOME");
    if (root && root[0])
        snprintf(store, size, "%s/objects", root);
    else if (home && home[0])
        snprintf(store, size, "%s/.burr_server/objects", home);
    else {
        fprintf(stderr, "spoor: no default store: set BURR_SERVER_ROOT or HOME, or use --store\n");
        return CLI_EXIT_CONFIG;
    }
    tg->store_root = store;
    return 0;
}

static void describe(const struct spoor_demo_target *tg)
{
    const char *bucket = tg->bucket ? tg->bucket : SPOOR_DEMO_BUCKET;
    if (tg->local_root)
        printf("demo data is in Burr's local layout under %s\n", tg->local_root);
    else if (tg->store_root)
        printf("demo data is in s3://%s in the local store %s\n", bucket, tg->store_root);
    else
        printf("demo data is in s3://%s\n", bucket);
}

/* Removes the spool directories if they are empty; says where unsent objects are if not. */
static void spool_cleanup(const char *spool)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", spool, SPOOR_DEMO_COUNTER_PROJECT);
    rmdir(path);
    snprintf(path, sizeof path, "%s/%s", spool, SPOOR_DEMO_CHATBOT_PROJECT);
    rmdir(path);
    if (rmdir(spool) != 0)
        fprintf(stderr, "spoor: objects not sent are kept in %s\n", spool);
}

int cmd_demo(struct cli *cx, const struct cli_command *cmd, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return cli_usage_error(cmd, "%s", "demo takes options only");
    struct spoor_demo_target tg;
    char store[4096], spool[4096];
    int code = demo_target(cx, cmd, &tg, store, sizeof store);
    if (code)
        return code;
    if (!tg.local_root) {
        const char *tmp = getenv("TMPDIR");
        snprintf(spool, sizeof spool, "%s/spoor-demo-spool-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        if (!mkdtemp(spool)) {
            perror("spoor: cannot make a spool directory");
            return CLI_EXIT_FAILED;
        }
        tg.spool_dir = spool;
    }
    struct spoor_error err;
    int rc = spoor_demo_seed(&tg, stdout, &err);
    if (tg.spool_dir)
        spool_cleanup(tg.spool_dir);
    if (rc == 0)
        describe(&tg);
    return cli_report(rc, &err);
}
