/*
 * cmd_object.c: the object commands of spoor (ls, get, put, rm, cp, mb, presign), each one or
 * a few router operations run with the blocking API.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int exec_op(struct cli *cx, const struct spoor_s3_op *op, struct spoor_s3_result *res)
{
    struct spoor_error err;
    int rc = spoor_router_exec(cx->router, op, res, &err);
    return cli_report(rc, &err);
}

/* Parses argv[0] as the one URI of a command that takes exactly one, and makes the router. */
static int one_uri(struct cli *cx, const struct cli_command *cmd, int argc, char **argv,
                   struct cli_uri *u, bool need_key)
{
    if (argc != 1)
        return cli_usage_error(cmd, "%s wants exactly one s3:// URI", cmd->name);
    return cli_parse_uri(cmd, argv[0], u, need_key) ?: cli_router(cx);
}

static void print_page(const struct cli_uri *u, const struct spoor_s3_list *l)
{
    for (size_t i = 0; i < l->nprefixes; i++)
        printf("%24s %12s  s3://%s/%s\n", "", "PRE", u->bucket, l->common_prefixes[i]);
    for (size_t i = 0; i < l->nobjects; i++)
        printf("%24s %12lld  s3://%s/%s\n",
               l->objects[i].last_modified ? l->objects[i].last_modified : "",
               (long long)l->objects[i].size, u->bucket, l->objects[i].key);
}

int cmd_ls(struct cli *cx, const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_uri u;
    int code = one_uri(cx, cmd, argc, argv, &u, false);
    if (code)
        return code;
    char *token = NULL;
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                             .bucket = u.bucket,
                             .prefix = u.key[0] ? u.key : NULL,
                             .delimiter = cx->recursive ? NULL : "/"};
    do {
        op.continuation_token = token;
        struct spoor_s3_result res;
        code = exec_op(cx, &op, &res);
        free(token);
        token = NULL;
        if (code == 0) {
            print_page(&u, &res.list);
            if (res.list.is_truncated) {
                token = res.list.next_continuation_token;
                res.list.next_continuation_token = NULL;
            }
        }
        spoor_s3_result_cleanup(&res);
    } while (code == 0 && token);
    return code;
}

static int write_stdout(const void *data, size_t len, void *ud)
{
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static int get_to(struct cli *cx, const struct cli_uri *u, const char *dest)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_GET_OBJECT, .bucket = u->bucket, .key = u->key};
    if (!dest || strcmp(dest, "-") == 0)
        op.sink.data_cb = write_stdout;
    else
        op.sink.path = dest;
    struct spoor_s3_result res;
    int code = exec_op(cx, &op, &res);
    spoor_s3_result_cleanup(&res);
    if (fflush(stdout) != 0 && code == 0) {
        fprintf(stderr, "spoor: cannot write to standard output: %s\n", strerror(errno));
        return CLI_EXIT_FAILED;
    }
    return code;
}

int cmd_get(struct cli *cx, const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_uri u;
    if (argc < 1 || argc > 2)
        return cli_usage_error(cmd, "%s wants a URI and an optional destination", "get");
    int code = cli_parse_uri(cmd, argv[0], &u, true) ?: cli_router(cx);
    return code ? code : get_to(cx, &u, argc == 2 ? argv[1] : NULL);
}

/* Standard input goes to a temporary file first, so that its length is known and a large
 * input can be sent in parts without being held in memory. */
static int stdin_to_tmp(char *path, size_t size)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, size, "%s/spoor-put-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return -errno;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (write(fd, chunk, n) != (ssize_t)n)
            rc = -errno;
    if (rc == 0 && ferror(stdin))
        rc = -EIO;
    close(fd);
    if (rc)
        unlink(path);
    return rc;
}

static int put_from(struct cli *cx, const char *src, const struct cli_uri *u)
{
    char tmp[4096] = "";
    if (strcmp(src, "-") == 0) {
        int rc = stdin_to_tmp(tmp, sizeof tmp);
        if (rc) {
            fprintf(stderr, "spoor: cannot buffer standard input: %s\n", spoor_strerror(rc));
            return CLI_EXIT_FAILED;
        }
        src = tmp;
    }
    struct spoor_s3_upload_opts o = {.content_type = cx->content_type};
    struct spoor_s3_result res;
    struct spoor_error err;
    int rc = spoor_router_upload_file_exec(cx->router, u->bucket, u->key, src, &o, &res, &err);
    spoor_s3_result_cleanup(&res);
    if (tmp[0])
        unlink(tmp);
    return cli_report(rc, &err);
}

int cmd_put(struct cli *cx, const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_uri u;
    if (argc != 2)
        return cli_usage_error(cmd, "%s wants a source and an s3:// URI", "put");
    int code = cli_parse_uri(cmd, argv[1], &u, true) ?: cli_router(cx);
    return code ? code : put_from(cx, argv[0], &u);
}

int cmd_rm(struct cli *cx, const struct cli_command *cmd, int argc, char **argv)
{
    if (argc < 1)
        return cli_usage_error(cmd, "%s wants at least one s3:// URI", "rm");
    int worst = cli_router(cx);
    for (int i = 0; i < argc && worst != CLI_EXIT_CONFIG; i++) {
        struct cli_uri u;
        int code = cli_parse_uri(cmd, argv[i], &u, true);
        if (!code) {
            struct spoor_s3_op op = {
                .kind = SPOOR_S3_DELETE_OBJECT, .bucket = u.bucket, .key = u.key};
            struct spoor_s3_result res;
            code = exec_op(cx, &op, &res);
            spoor_s3_result_cleanup(&res);
        }
        worst = code > worst ? code : worst;
    }
    return worst;
}

int cmd_cp(struct cli *cx, const struct cli_command *cmd, int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error(cmd, "%s wants a source and a destination", "cp");
    struct cli_uri a, b;
    bool src_s3 = strncmp(argv[0], "s3://", 5) == 0, dst_s3 = strncmp(argv[1], "s3://", 5) == 0;
    if (!src_s3 && !dst_s3)
        return cli_usage_error(cmd, "cp needs at least one s3:// URI ('%s' is local)", argv[0]);
    int code = (src_s3 ? cli_parse_uri(cmd, argv[0], &a, true) : 0) ?:
               (dst_s3 ? cli_parse_uri(cmd, argv[1], &b, true) : 0) ?: cli_router(cx);
    if (code)
        return code;
    if (!src_s3)
        return put_from(cx, argv[0], &b);
    if (!dst_s3)
        return get_to(cx, &a, argv[1]);
    struct spoor_s3_op op = {.kind = SPOOR_S3_COPY_OBJECT,
                             .bucket = b.bucket,
                             .key = b.key,
                             .src_bucket = a.bucket,
                             .src_key = a.key,
                             .content_type = cx->content_type,
                             .replace_meta = cx->content_type != NULL};
    struct spoor_s3_result res;
    code = exec_op(cx, &op, &res);
    spoor_s3_result_cleanup(&res);
    return code;
}

int cmd_mb(struct cli *cx, const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_uri u;
    int code = one_uri(cx, cmd, argc, argv, &u, false);
    if (code)
        return code;
    /* A prefix after the bucket chooses the route: the bucket its endpoint needs is made. */
    struct spoor_s3_op op = {
        .kind = SPOOR_S3_CREATE_BUCKET, .bucket = u.bucket, .key = u.key[0] ? u.key : NULL};
    struct spoor_s3_result res;
    code = exec_op(cx, &op, &res);
    spoor_s3_result_cleanup(&res);
    return code;
}

int cmd_presign(struct cli *cx, const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_uri u;
    int code = one_uri(cx, cmd, argc, argv, &u, true);
    if (code)
        return code;
    char *url = NULL;
    struct spoor_error err;
    int rc = spoor_router_presign(cx->router, "GET", u.bucket, u.key, cx->expires_s, &url, &err);
    if (rc == 0)
        printf("%s\n", url);
    free(url);
    return cli_report(rc, &err);
}
